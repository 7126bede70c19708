package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// resetPeakRSS restarts the kernel's peak-RSS counter (VmHWM) of process
// proc ("self" or a pid), so that each measured phase reports its own peak.
// It is a no-op where /proc/PID/clear_refs is not writable.
func resetPeakRSS(proc string) { os.WriteFile("/proc/"+proc+"/clear_refs", []byte("5"), 0) }

// peakRSS returns the peak resident set size in bytes of process proc
// ("self" or a pid) since it started or since resetPeakRSS; 0 when unknown
// (not Linux).
func peakRSS(proc string) uint64 {
	f, err := os.Open("/proc/" + proc + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime returns the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
