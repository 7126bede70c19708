package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a long command's progress: a bar redrawn in place on a
// terminal, a plain line every few seconds otherwise (logs, CI).
type progress struct {
	w     io.Writer
	tty   bool
	label string
	unit  string
	last  time.Time
	now   func() time.Time
	open  bool   // a bar is drawn on the terminal and its line not ended
	note  string // said after the ETA when not empty ("3 not answered 200")
}

// plainEvery is how often progress prints a line when not on a terminal.
const plainEvery = 2 * time.Second

func newProgress(w io.Writer, label, unit string) *progress {
	return &progress{w: w, tty: isTerminal(w), label: label, unit: unit, now: time.Now}
}

// update shows done of total at rate units per second; final ends the line.
func (p *progress) update(done, total uint64, rate float64, final bool) {
	if !p.tty && !final && p.now().Sub(p.last) < plainEvery {
		return
	}
	p.last = p.now()
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	eta := "--:--"
	if rate > 0 && total >= done {
		eta = fmtDuration(time.Duration(float64(total-done) / rate * float64(time.Second)))
	}
	line := fmt.Sprintf("%-8s %5.1f%%  %s / %s %s  %s %s/s  ETA %s",
		p.label, pct, fmtCount(done), fmtCount(total), p.unit, fmtCount(uint64(rate)), p.unit, eta)
	if p.note != "" {
		line += "  " + p.note
	}
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	const width = 24
	filled := int(pct / 100 * width)
	bar := "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "] "
	fmt.Fprintf(p.w, "\r\033[K%s%s", bar, line)
	p.open = !final
	if final {
		fmt.Fprintln(p.w)
	}
}

// stop ends a bar's line that no final update ended (the command failed or
// was interrupted), so that what is printed next starts on a line of its own.
func (p *progress) stop() {
	if p.open {
		fmt.Fprintln(p.w)
		p.open = false
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// fmtCount writes n with thin thousands separators: 1,234,567.
func fmtCount(n uint64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fmtDuration writes d as m:ss, or h:mm:ss past an hour.
func fmtDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}
