package projections

// SetFoldVersion lets tests pretend a projection was built by another fold.
func (s *Store) SetFoldVersion(v string) error {
	return s.db.Set(keyFoldVersion, []byte(v), nil)
}

// Corrupt overwrites one key of the store, to show that an audit notices.
func (s *Store) Corrupt(key string, value []byte) error {
	return s.db.Set([]byte(key), value, nil)
}
