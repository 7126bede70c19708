package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
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

// cell makes text that came in a callback safe to print in a table on a
// terminal: control characters (a tab or newline that would break the
// columns, the escape that starts a terminal command) are shown as Go
// escapes (\t, \n, \x1b) instead.
func cell(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !unicode.IsControl(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r) // '\n', '\x1b', '\u0085'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}
