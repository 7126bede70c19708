package projections

import (
	"hash/maphash"
	"math/bits"
)

// writtenKeys remembers, approximately, the keys of the records a projector
// has written to a store it found empty (Config.FreshStore). In a rebuild,
// most records the projector cannot find among its recent batches are ones
// it has not written yet (in BenchmarkRebuild100k all 33k such lookups
// missed): looking them up in Pebble costs a search of the memtables and of
// the tables' filters on the fold's critical path, for nothing. With this
// set only the records it did write are looked up.
//
// It is a blocked Bloom filter that grows with the keys added: it may say a
// key was written when it was not (the lookup then misses, as it would
// without the set), never the reverse. About 1.3 bytes per key.
type writtenKeys struct {
	seed    maphash.Seed
	filters []bloomFilter // oldest first; only the last one takes new keys
}

// bloomFilter is one fixed-size blocked Bloom filter: each key sets
// bloomProbes bits in one 512-bit block (one cache line).
type bloomFilter struct {
	blocks [][8]uint64
	keys   int // added so far
	max    int // keys it is sized for
}

const (
	bloomFirstKeys  = 1 << 16 // keys of the first filter; each next one holds twice as many
	bloomBitsPerKey = 10      // about 1-2 % false positives with 6 probes in a block
	bloomProbes     = 6
	bloomBlockBits  = 512                // one [8]uint64
	bloomProbeBits  = 9                  // log2(bloomBlockBits): one probe's bits of the hash
	goldenRatio64   = 0x9e3779b97f4a7c15 // remixes the hash for the probes
)

func newWrittenKeys() *writtenKeys {
	return &writtenKeys{seed: maphash.MakeSeed()}
}

func newBloomFilter(keys int) bloomFilter {
	n := (keys*bloomBitsPerKey + bloomBlockBits - 1) / bloomBlockBits
	return bloomFilter{blocks: make([][8]uint64, n), max: keys}
}

// add records key as written. A key already (maybe) in the set is not
// added again, so records written in many batches count once.
func (w *writtenKeys) add(key string) {
	h := maphash.String(w.seed, key)
	if w.has(h) {
		return
	}
	n := len(w.filters)
	if n == 0 || w.filters[n-1].keys >= w.filters[n-1].max {
		size := bloomFirstKeys
		if n > 0 {
			size = 2 * w.filters[n-1].max
		}
		w.filters = append(w.filters, newBloomFilter(size))
		n++
	}
	f := &w.filters[n-1]
	f.set(h)
	f.keys++
}

// mayContain reports whether key may have been added; false means it was not.
func (w *writtenKeys) mayContain(key []byte) bool {
	return w.has(maphash.Bytes(w.seed, key))
}

func (w *writtenKeys) has(h uint64) bool {
	for i := range w.filters {
		if w.filters[i].has(h) {
			return true
		}
	}
	return false
}

// block picks the key's block from the hash's high bits; the probes come
// from a remix of the hash, nine bits each.
func (f *bloomFilter) block(h uint64) (*[8]uint64, uint64) {
	hi, _ := bits.Mul64(h, uint64(len(f.blocks)))
	return &f.blocks[hi], h * goldenRatio64
}

func (f *bloomFilter) set(h uint64) {
	b, p := f.block(h)
	for range bloomProbes {
		bit := p & (bloomBlockBits - 1)
		b[bit>>6] |= 1 << (bit & 63)
		p >>= bloomProbeBits
	}
}

func (f *bloomFilter) has(h uint64) bool {
	b, p := f.block(h)
	for range bloomProbes {
		bit := p & (bloomBlockBits - 1)
		if b[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
		p >>= bloomProbeBits
	}
	return true
}
