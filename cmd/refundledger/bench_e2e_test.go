package main_test

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestBenchReplaySmall runs `bench replay` through the built binary on two
// small streams (so each size runs in a process of its own): it completes,
// rebuilds every callback in each round (it fails otherwise) and prints a row
// per size with medians and the ratios' range.
func TestBenchReplaySmall(t *testing.T) {
	bin := mustBuild(t)
	out, err := exec.Command(bin, "bench", "replay", "--n", "2000,3000", "--rounds", "3").CombinedOutput()
	if err != nil {
		t.Fatalf("bench replay: %v\n%s", err, out)
	}
	for _, n := range []string{"2,000", "3,000"} {
		row := regexp.MustCompile(`(?m)^\s+` + n + `\s+([\d,]+)\s+([\d,]+)\s+(\d\.\d\d) \((\d\.\d\d)-(\d\.\d\d)\)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[1-9]\d* MiB\s+[1-9]\d* MiB\s*$`)
		m := row.FindStringSubmatch(string(out))
		if m == nil {
			t.Fatalf("no result row for N=%s in:\n%s", n, out)
		}
		if !(m[4] <= m[3] && m[3] <= m[5]) {
			t.Errorf("N=%s: median ratio %s outside its range %s-%s", n, m[3], m[4], m[5])
		}
	}
	if !strings.Contains(string(out), "medians of 3 rounds") {
		t.Errorf("no note on the rounds in:\n%s", out)
	}
}

func TestBenchReplayRefusesAProfileOfSeveralSizes(t *testing.T) {
	bin := mustBuild(t)
	out, err := exec.Command(bin, "bench", "replay", "--n", "2000,3000", "--cpuprofile", t.TempDir()+"/cpu").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--cpuprofile profiles one size at a time") {
		t.Fatalf("want a refusal, got %v:\n%s", err, out)
	}
}
