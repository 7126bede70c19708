package projections

// CPUTime is cpuTime for the benchmarks of the external test package.
var CPUTime = cpuTime

// StreamSeq is streamSeq, for a test against a real consumer.
var StreamSeq = streamSeq

// SetFoldVersion lets tests pretend a projection was built by another fold.
func (s *Store) SetFoldVersion(v string) error {
	return s.db.Set(keyFoldVersion, []byte(v), nil)
}

// Corrupt overwrites one key of the store, to show that an audit notices.
func (s *Store) Corrupt(key string, value []byte) error {
	return s.db.Set([]byte(key), value, nil)
}

// SetLayout lets tests pretend a projection was written by another layout
// ("" removes the key, as layout 1 never wrote it).
func (s *Store) SetLayout(v string) error {
	if v == "" {
		return s.db.Delete(keyLayout, nil)
	}
	return s.db.Set(keyLayout, []byte(v), nil)
}
