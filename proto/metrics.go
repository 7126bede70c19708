package proto

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Metrics writes the Prometheus text exposition format (version 0.0.4), the
// body of GET /metrics. Each metric's HELP and TYPE lines are written once,
// before its first sample. Not safe for concurrent use.
type Metrics struct {
	w    io.Writer
	seen map[string]bool
}

// NewMetrics returns a Metrics writing to w.
func NewMetrics(w io.Writer) *Metrics { return &Metrics{w: w, seen: map[string]bool{}} }

// Counter writes one sample of a monotonic counter; labels are name, value pairs.
func (m *Metrics) Counter(name, help string, v uint64, labels ...string) {
	m.sample(name, help, "counter", strconv.FormatUint(v, 10), labels)
}

// Gauge writes one sample of a value that goes up and down.
func (m *Metrics) Gauge(name, help string, v float64, labels ...string) {
	m.sample(name, help, "gauge", strconv.FormatFloat(v, 'g', -1, 64), labels)
}

func (m *Metrics) sample(name, help, typ, value string, labels []string) {
	if !m.seen[name] {
		m.seen[name] = true
		fmt.Fprintf(m.w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	var b strings.Builder
	b.WriteString(name)
	if len(labels) >= 2 {
		b.WriteByte('{')
		for i := 0; i+1 < len(labels); i += 2 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(labels[i] + "=" + strconv.Quote(labels[i+1]))
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(m.w, "%s %s\n", b.String(), value)
}
