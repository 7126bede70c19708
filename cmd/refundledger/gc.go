package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// The Go collector settings of a bulk fold (rebuild, offline audit, bench
// replay). A fold allocates a lot of short-lived memory around a small live
// heap (30-40 MiB of records and batches in flight), so with the default
// GOGC=100 the collector ran every few tens of MB and took a sixth of a
// rebuild's CPU. GOGC=200 collects a third as often; the memory limit caps
// what that costs: bulkHeapBudget on top of whatever the process held when
// the fold started, so the peak does not grow with the stream. At 120 MiB
// the heap ran into the limit and the collector with it; 180 MiB cost a
// rebuild ~7 % less CPU for ~10 MiB more peak RSS (bench replay, 300k,
// --nats-child: 2.58-2.69 against 2.79-2.87 CPU s per 100k callbacks).
//
// An embedded NATS server grows too while it serves the whole stream (its
// block caches: ~150 MiB more at 500k callbacks); held to the fold's budget,
// the collector ran almost continuously (bench replay, 500k: 32k callbacks/s
// against 52k), so it gets embeddedNATSBudget besides: 60 MiB, so that the
// two stay at the 240 MiB measured then (at 180 + 120 the process peaked at
// 446 MiB at 500k, against 384 MiB now). Setting GOGC or GOMEMLIMIT in the
// environment overrides either.
const (
	bulkGCPercent      = 200
	bulkHeapBudget     = 180 << 20
	embeddedNATSBudget = 60 << 20
)

// The Go collector settings of the services, serve and project (and of
// bench ingest, which measures serve's path). A callback allocates a few KB
// around a small live heap, so at GOGC=100 the collector ran many times a
// second, and its pauses and assists showed in the tail latency (bench
// ingest, concurrency 64: p99 of the full path 23-28 ms at GOGC=100, 14-24 ms
// at 400). The limit makes the collector work harder rather than let the
// heap pass it. GOGC and GOMEMLIMIT in the environment override either.
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

// bulkGC applies the bulk settings, for a process that also runs the NATS
// server when embeddedNATS, and returns a function that restores the
// previous ones.
func bulkGC(embeddedNATS bool) (restore func()) {
	prevPercent, prevLimit := -2, int64(-1)
	if os.Getenv("GOGC") == "" {
		prevPercent = debug.SetGCPercent(bulkGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		runtime.GC()
		limit := int64(goMemory()) + bulkHeapBudget
		if embeddedNATS {
			limit += embeddedNATSBudget
		}
		prevLimit = debug.SetMemoryLimit(limit)
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

// goMemory returns the memory the Go runtime holds as the memory limit counts
// it (heap, stacks and runtime metadata, less what was returned to the OS).
// Memory allocated outside Go, such as Pebble's memtables and block cache in
// a cgo build, is not in it.
func goMemory() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64() - s[1].Value.Uint64()
}
