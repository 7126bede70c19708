package main_test

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestBenchReplaySmall runs `bench replay` through the built binary on a
// small stream: it completes, rebuilds every callback in each round (it
// fails otherwise) and prints one row with medians and the ratios' range.
func TestBenchReplaySmall(t *testing.T) {
	bin := mustBuild(t)
	out, err := exec.Command(bin, "bench", "replay", "--n", "3000", "--rounds", "2").CombinedOutput()
	if err != nil {
		t.Fatalf("bench replay: %v\n%s", err, out)
	}
	row := regexp.MustCompile(`(?m)^\s+3,000\s+([\d,]+)\s+([\d,]+)\s+(\d\.\d\d) \((\d\.\d\d)-(\d\.\d\d)\)\s+[\d.]+\s+[\d.]+\s+\d+ MiB\s+\d+ MiB\s*$`)
	m := row.FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("no result row for N=3,000 in:\n%s", out)
	}
	if !(m[4] <= m[3] && m[3] <= m[5]) {
		t.Errorf("median ratio %s outside its range %s-%s", m[3], m[4], m[5])
	}
	if !strings.Contains(string(out), "medians of 2 rounds") {
		t.Errorf("no note on the rounds in:\n%s", out)
	}
}
