package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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

// A column of a table is text or a number, and that alone decides how its
// cells line up: text (names, codes, ids, times) on the left, numbers
// (counts, money, bytes, sequences) on the right, so that digits of the same
// place stand one above the other. Its header lines up the same way.
type column struct {
	name   string
	number bool
}

// textCol is a column of text, left-aligned.
func textCol(name string) column { return column{name: name} }

// numCol is a column of numbers, right-aligned.
func numCol(name string) column { return column{name: name, number: true} }

// table lines up rows under a header, two spaces between columns, every
// column aligned as it was declared. Widths are counted in runes, as
// text/tabwriter counts them. A table whose columns have no names has no
// header line.
type table struct {
	cols []column
	rows [][]string
}

func newTable(cols ...column) *table { return &table{cols: cols} }

// row adds a row of cells, one a column: the rows of a table are all as
// wide as its header, or the columns would not line up.
func (t *table) row(cells ...string) {
	if len(cells) != len(t.cols) {
		panic(fmt.Sprintf("table row of %d cells under %d columns", len(cells), len(t.cols)))
	}
	t.rows = append(t.rows, cells)
}

// write writes the table to w. A line carries no spaces at its end.
func (t *table) write(w io.Writer) error {
	rows := t.rows
	header := make([]string, len(t.cols))
	named := false
	for i, c := range t.cols {
		header[i] = c.name
		named = named || c.name != ""
	}
	if named {
		rows = append([][]string{header}, rows...)
	}
	width := make([]int, len(t.cols))
	for _, r := range rows {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	var b strings.Builder
	for _, r := range rows {
		b.Reset()
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if t.cols[i].number {
				b.WriteString(pad)
				b.WriteString(c)
			} else {
				b.WriteString(c)
				b.WriteString(pad)
			}
		}
		line := strings.TrimRight(b.String(), " ") + "\n"
		if _, err := io.WriteString(w, line); err != nil {
			return err
		}
	}
	return nil
}

// plural writes a count and its noun, the noun in the plural unless the
// count is 1: "1 refund", "0 refunds", "1,234 refunds". It is for nouns whose
// plural takes an s (refund, callback, order, snapshot).
func plural[N ~int | ~int64 | ~uint64](n N, noun string) string {
	s := fmt.Sprint(n)
	if n >= 0 {
		s = fmtCount(uint64(n))
	}
	if n != 1 {
		noun += "s"
	}
	return s + " " + noun
}
