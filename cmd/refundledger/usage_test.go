package main

import (
	"os"
	"strconv"
	"testing"
	"time"
)

func TestParseProcStatCPU(t *testing.T) {
	for _, c := range []struct {
		stat string
		want time.Duration
	}{
		// utime 250 and stime 31 ticks: 2.81 s.
		{"4242 (refundledger) S 1 4242 4242 0 -1 4194560 9137 0 0 0 250 31 0 0 20 0 9 0 1234 0 0", 2810 * time.Millisecond},
		// A command name with spaces and parentheses.
		{"7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 5 5 0 0 20 0 1 0 9 0 0", 100 * time.Millisecond},
		{"", 0},
		{"7 (x) R 1 7", 0},
		{"7 (x) R 1 7 7 0 -1 0 0 0 0 0 five 5 0", 0},
	} {
		if got := parseProcStatCPU(c.stat); got != c.want {
			t.Errorf("parseProcStatCPU(%q) = %v, want %v", c.stat, got, c.want)
		}
	}
}

// TestProcCPUAgreesWithGetrusage reads this process's own /proc entry after
// burning some CPU: it must be within the 10 ms tick of what getrusage says.
func TestProcCPUAgreesWithGetrusage(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	for start := time.Now(); time.Since(start) < 150*time.Millisecond; {
	}
	pid := strconv.Itoa(os.Getpid())
	before := cpuTime()
	got := procCPU(pid)
	after := cpuTime()
	if got < before-20*time.Millisecond || got > after+20*time.Millisecond {
		t.Errorf("procCPU = %v, getrusage %v..%v", got, before, after)
	}
	if got < 100*time.Millisecond {
		t.Errorf("procCPU = %v after 150 ms of spinning", got)
	}
	if procCPU("") != 0 || procCPU("999999999") != 0 {
		t.Error("want 0 for no process")
	}
}

// FuzzParseProcStatCPU: any text gives a duration that is never negative,
// and a stat line built around any command name gives back its utime and
// stime.
func FuzzParseProcStatCPU(f *testing.F) {
	f.Add("4242 (refundledger) S 1 4242 4242 0 -1 4194560 9137 0 0 0 250 31 0 0 20 0", "a (b) c", uint32(250), uint32(31))
	f.Add(")", "", uint32(0), uint32(0))
	f.Fuzz(func(t *testing.T, stat, comm string, utime, stime uint32) {
		if d := parseProcStatCPU(stat); d < 0 {
			t.Fatalf("parseProcStatCPU(%q) = %v", stat, d)
		}
		line := "7 (" + comm + ") R 1 7 7 0 -1 0 0 0 0 0 " + strconv.FormatUint(uint64(utime), 10) + " " +
			strconv.FormatUint(uint64(stime), 10) + " 0 0 20 0 1 0 9 0 0\n"
		want := time.Duration(uint64(utime)+uint64(stime)) * 10 * time.Millisecond
		if got := parseProcStatCPU(line); got != want {
			t.Fatalf("parseProcStatCPU(%q) = %v, want %v", line, got, want)
		}
	})
}
