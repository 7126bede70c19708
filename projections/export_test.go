package projections

// SetFoldVersion lets tests pretend a projection was built by another fold.
func (s *Store) SetFoldVersion(v string) error {
	return s.db.Set(keyFoldVersion, []byte(v), nil)
}
