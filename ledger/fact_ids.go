package ledger

import (
	"slices"
	"strconv"
)

// factSet derives the facts of a record that were not emitted yet. Each
// candidate fact's id is written into a scratch buffer and looked up in the
// emitted list first, so a fact already emitted (the common case: a record
// re-derives all its facts on every callback) costs no allocation; the ids of
// the fresh facts share one string.
type factSet struct {
	emitted []string // sorted
	id      []byte   // the candidate id being built
	ids     []byte   // fresh ids, back to back
	ends    []int    // end of each fresh id in ids
	fresh   []Fact
	max     int      // how many facts at most will be offered (a capacity hint)
	sc      *scratch // where the buffers come from and go back to (nil: allocated)
}

// newFactSet starts a set of at most max candidate facts. With sc, it
// builds in sc's memory (see Folder) and keeps what it grew there.
func newFactSet(emitted []string, max int, sc *scratch) factSet {
	if sc == nil {
		return factSet{emitted: emitted, id: make([]byte, 0, 96), max: max}
	}
	return factSet{emitted: emitted, id: sc.id[:0], ids: sc.ids[:0], ends: sc.ends[:0], fresh: sc.facts[:0], max: max, sc: sc}
}

// scratch is memory a factSet may build in, kept from one call of a Folder
// to the next.
type scratch struct {
	id, ids []byte
	ends    []int
	facts   []Fact
}

// start begins a candidate id with prefix.
func (s *factSet) start(prefix string) *factSet {
	s.id = append(s.id[:0], prefix...)
	return s
}

func (s *factSet) str(v string) *factSet {
	s.id = append(s.id, v...)
	return s
}

func (s *factSet) int(v int64) *factSet {
	s.id = strconv.AppendInt(s.id, v, 10)
	return s
}

// add keeps f, whose id is the candidate built since start, unless that id
// was emitted before or is already among the fresh facts.
func (s *factSet) add(f Fact) {
	if s.novel() {
		s.fresh = append(s.fresh, f)
	}
}

// novel reports whether the candidate id is neither emitted nor already
// fresh; when it is novel it is recorded, and the caller must add its fact
// with keep.
func (s *factSet) novel() bool {
	id := s.id
	if containsID(s.emitted, id) {
		return false
	}
	begin := 0
	for _, end := range s.ends {
		if string(s.ids[begin:end]) == string(id) {
			return false
		}
		begin = end
	}
	if s.ends == nil && s.sc == nil {
		// A record re-derives all its facts on every callback and most of
		// them were emitted before: room for a few fresh ones, grown when
		// there are more (a record seen for the first time).
		n := min(s.max, 4)
		s.ends = make([]int, 0, n)
		s.fresh = make([]Fact, 0, n)
		s.ids = make([]byte, 0, n*(len(id)+8))
	}
	s.ids = append(s.ids, id...)
	s.ends = append(s.ends, len(s.ids))
	return true
}

// keep adds the fact of the id novel just accepted.
func (s *factSet) keep(f Fact) { s.fresh = append(s.fresh, f) }

// result returns the fresh facts, in the order added, and the new emitted
// list (sorted; a fresh slice when anything was added, else the old one).
func (s *factSet) result() ([]Fact, []string) {
	if s.sc != nil { // keep what grew for the next set
		s.sc.id, s.sc.ids, s.sc.ends, s.sc.facts = s.id, s.ids, s.ends, s.fresh
	}
	if len(s.fresh) == 0 {
		return nil, s.emitted
	}
	all := string(s.ids)
	ids := make([]string, len(s.fresh))
	begin := 0
	for i, end := range s.ends {
		ids[i] = all[begin:end]
		s.fresh[i].ID = ids[i]
		begin = end
	}
	slices.Sort(ids)
	emitted := s.emitted
	out := make([]string, 0, len(emitted)+len(ids))
	i, j := 0, 0
	for i < len(emitted) && j < len(ids) {
		if emitted[i] < ids[j] {
			out = append(out, emitted[i])
			i++
		} else {
			out = append(out, ids[j])
			j++
		}
	}
	out = append(append(out, emitted[i:]...), ids[j:]...)
	return s.fresh, out
}

// containsID reports whether the sorted list holds id (without converting id
// to a string).
func containsID(sorted []string, id []byte) bool {
	lo, hi := 0, len(sorted)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if sorted[m] < string(id) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(sorted) && sorted[lo] == string(id)
}
