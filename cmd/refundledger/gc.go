package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

// The Go collector settings of a bulk fold (rebuild, offline audit, bench
// replay). A fold allocates a lot of short-lived memory around a small live
// heap (30-40 MiB of records and batches in flight), so with the default
// GOGC=100 the collector ran every few tens of MB and took a sixth of a
// rebuild's CPU. GOGC=200 collects a third as often; the memory limit caps
// what that costs: bulkHeapBudget on top of whatever the process held when
// the fold started (an embedded NATS server's state, say), so the peak does
// not grow with the stream. Setting GOGC or GOMEMLIMIT in the environment
// overrides either.
const (
	bulkGCPercent  = 200
	bulkHeapBudget = 120 << 20
)

// The Go collector settings of serve (and of bench ingest, which measures
// serve's path). A callback allocates a few KB around a small live heap, so
// at GOGC=100 the collector ran many times a second, and its pauses and
// assists showed in the tail latency (bench ingest, concurrency 64: p99 of
// the full path 23-28 ms at GOGC=100, 14-24 ms at 400). The limit makes the
// collector work harder rather than let the heap pass it. GOGC and
// GOMEMLIMIT in the environment override either.
const (
	serveGCPercent   = 400
	serveMemoryLimit = 1 << 30
)

// serveGC applies the serve settings.
func serveGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}

// bulkGC applies the bulk settings and returns a function that restores the
// previous ones.
func bulkGC() (restore func()) {
	prevPercent, prevLimit := -2, int64(-1)
	if os.Getenv("GOGC") == "" {
		prevPercent = debug.SetGCPercent(bulkGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		prevLimit = debug.SetMemoryLimit(int64(ms.HeapAlloc) + bulkHeapBudget)
	}
	return func() {
		if prevPercent != -2 {
			debug.SetGCPercent(prevPercent)
		}
		if prevLimit >= 0 {
			debug.SetMemoryLimit(prevLimit)
		}
	}
}
