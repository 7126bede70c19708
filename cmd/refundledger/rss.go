package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// resetPeakRSS restarts the kernel's peak-RSS counter (VmHWM) of this
// process, so that each measured phase reports its own peak. It is a no-op
// where /proc/self/clear_refs is not writable.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS returns this process's peak resident set size in bytes since
// start or the last resetPeakRSS, 0 when unknown (not Linux).
func peakRSS() uint64 {
	f, err := os.Open("/proc/self/status")
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
