package main_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBenchReplaySmall runs `bench replay` through the built binary on two
// small streams (so each size runs in a process of its own): it completes,
// rebuilds every callback in each round (it fails otherwise) and prints, per
// size, a row of speeds with medians and the ratios' range (the full phase's
// time including the store's close) and a row of CPU time and memory.
func TestBenchReplaySmall(t *testing.T) {
	bin := mustBuild(t)
	out, err := exec.Command(bin, "bench", "replay", "--n", "2000,3000", "--rounds", "3").CombinedOutput()
	if err != nil {
		t.Fatalf("bench replay: %v\n%s", err, out)
	}
	for _, n := range []string{"2,000", "3,000"} {
		speed := regexp.MustCompile(`(?m)^\s+` + n + `\s+([\d,]+)\s+([\d,]+)\s+(\d\.\d\d) \((\d\.\d\d)-(\d\.\d\d)\)\s+(\d+\.\d\d)\s+([\d.]+)\s+([\d.]+)\s*$`)
		m := speed.FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("no speed row for N=%s in:\n%s", n, out)
		}
		if !(m[4] <= m[3] && m[3] <= m[5]) {
			t.Errorf("N=%s: median ratio %s outside its range %s-%s", n, m[3], m[4], m[5])
		}
		if r, _ := strconv.ParseFloat(m[6], 64); r <= 0 || r > 2 {
			t.Errorf("N=%s: full/raw by CPU %s is not a plausible ratio", n, m[6])
		}
		full, _ := strconv.ParseFloat(m[7], 64)
		if closing, _ := strconv.ParseFloat(m[8], 64); full <= 0 || closing > full {
			t.Errorf("N=%s: %s s closing the store, not within the full phase's %s s", n, m[8], m[7])
		}
		cost := regexp.MustCompile(`(?m)^\s+` + n + `\s+(\d+\.\d\d)\s+(\d+\.\d\d)\s+[1-9]\d* MiB\s+[1-9]\d* MiB\s*$`)
		m = cost.FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("no CPU and memory row for N=%s in:\n%s", n, out)
		}
		if m[1] == "0.00" || m[2] == "0.00" {
			t.Errorf("N=%s: a phase used no CPU: raw %s, full %s s/100k", n, m[1], m[2])
		}
	}
	if !strings.Contains(string(out), "medians of 3 rounds") {
		t.Errorf("no note on the rounds in:\n%s", out)
	}
}

func TestBenchReplayRefusesAProfileOfSeveralSizes(t *testing.T) {
	bin := mustBuild(t)
	for _, flag := range []string{"--cpuprofile", "--memprofile"} {
		out, err := exec.Command(bin, "bench", "replay", "--n", "2000,3000", flag, t.TempDir()+"/prof").CombinedOutput()
		if err == nil || !strings.Contains(string(out), flag+" profiles one size at a time") {
			t.Errorf("%s: want a refusal, got %v:\n%s", flag, err, out)
		}
	}
}

// TestBenchReplayWritesProfiles: given one size, --cpuprofile and
// --memprofile each write a profile (gzipped protocol buffers, as pprof
// reads them).
func TestBenchReplayWritesProfiles(t *testing.T) {
	bin := mustBuild(t)
	dir := t.TempDir()
	out, err := exec.Command(bin, "bench", "replay", "--n", "2000", "--rounds", "1",
		"--cpuprofile", dir+"/cpu", "--memprofile", dir+"/mem").CombinedOutput()
	if err != nil {
		t.Fatalf("bench replay: %v\n%s", err, out)
	}
	for _, name := range []string{"cpu", "mem"} {
		b, err := os.ReadFile(dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		z, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s profile: %v", name, err)
		}
		if n, err := io.Copy(io.Discard, z); err != nil || n < 100 {
			t.Errorf("%s profile: %d bytes, %v", name, n, err)
		}
	}
}

// TestBenchReplayNATSChild runs `bench replay --nats-child` through the built
// binary: the server runs in a child process whose CPU time and peak RSS are
// printed beside this process's.
func TestBenchReplayNATSChild(t *testing.T) {
	bin := mustBuild(t)
	out, err := exec.Command(bin, "bench", "replay", "--n", "3000", "--rounds", "1", "--nats-child").CombinedOutput()
	if err != nil {
		t.Fatalf("bench replay --nats-child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "NATS raw CPU s/100k  NATS full CPU s/100k") {
		t.Errorf("no NATS CPU columns in:\n%s", out)
	}
	cost := regexp.MustCompile(`(?m)^\s+3,000(\s+\d+\.\d\d){4}\s+[1-9]\d* MiB\s+[1-9]\d* MiB\s+[1-9]\d* MiB\s*$`)
	if !cost.Match(out) {
		t.Errorf("no CPU and memory row with the server's in:\n%s", out)
	}
}
