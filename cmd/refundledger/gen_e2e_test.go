package main_test

import (
	"bytes"
	"os/exec"
	"regexp"
	"testing"
)

// TestGenPostShowsProgress: `gen --post` shows its progress on stderr, off a
// terminal as plain lines that end with every callback posted, and keeps
// stdout for its summary.
func TestGenPostShowsProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary")
	}
	s := startServe(t, t.TempDir())
	cmd := exec.Command(mustBuild(t), "gen", "--orders", "40", "--post", s.callback)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("gen --post: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	sent := regexp.MustCompile(`(?m)^\s*([0-9,]+)\s+([0-9,]+)\s+0\s+0\s`).FindSubmatch(stdout.Bytes())
	if sent == nil || !bytes.Equal(sent[1], sent[2]) {
		t.Fatalf("gen --post summary: want every callback answered 200\n%s", stdout.String())
	}
	n := regexp.QuoteMeta(string(sent[1]))
	final := regexp.MustCompile(`(?m)^post\s+100\.0%\s+` + n + ` / ` + n + ` callbacks\s+[0-9,]+ callbacks/s\s+ETA 0:00$`)
	if !final.Match(stderr.Bytes()) {
		t.Fatalf("gen --post progress on stderr: want a last line with %s / %s callbacks\nstderr:\n%s", sent[1], sent[1], stderr.String())
	}
	if bytes.Contains(stdout.Bytes(), []byte("callbacks/s")) || bytes.Contains(stderr.Bytes(), []byte("\r")) {
		t.Fatalf("progress belongs on stderr, as plain lines off a terminal\nstdout:\n%s\nstderr:\n%q", stdout.String(), stderr.String())
	}
}
