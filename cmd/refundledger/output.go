package main

import (
	"fmt"
	"io"
)

// errWriter passes writes on to w and keeps the first error, so that a
// command printing many lines can fail at the end when they did not all
// arrive (a full disk, a closed pipe) instead of exiting 0 with a cut-short
// output.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = fmt.Errorf("write the output: %w", err)
	}
	return n, e.err
}
