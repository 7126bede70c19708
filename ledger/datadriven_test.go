package ledger_test

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"refundledger/ledger"
	"refundledger/ledger/simulate"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output in testdata/fold/*.txt")

// ddCase is one block of a data-driven file:
//
//	fold <name>
//	<input lines>
//	----
//	<expected output lines>
//	<blank line>
//
// Input lines are applied in order:
//
//	file <path>                  a callback file (path relative to ledger/)
//	sim seed=N lifecycle=L [retry=R] [dup=D] [shuffle]
//	                             every callback of one simulated order, checked
//	                             against the simulator's ground truth too
//	envelope <json>              an inline callback (whole envelope, one line)
//
// Lines starting with # between cases are comments.
type ddCase struct {
	name   string
	header string
	input  []string
	want   string
	line   int
}

func parseDD(t *testing.T, path string) (cases []ddCase, comments map[int]string) {
	t.Helper()
	b := mustRead(t, path)
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	comments = map[int]string{}
	for i := 0; i < len(lines); {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			i++
			continue
		case strings.HasPrefix(l, "#"):
			comments[len(cases)] += l + "\n"
			i++
			continue
		case !strings.HasPrefix(l, "fold "):
			t.Fatalf("%s:%d: expected 'fold <name>', got %q", path, i+1, l)
		}
		c := ddCase{header: l, name: strings.TrimSpace(strings.TrimPrefix(l, "fold ")), line: i + 1}
		i++
		for ; i < len(lines) && lines[i] != "----"; i++ {
			c.input = append(c.input, lines[i])
		}
		i++
		var want []string
		for ; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
			want = append(want, lines[i])
		}
		c.want = strings.Join(want, "\n")
		cases = append(cases, c)
	}
	return cases, comments
}

func TestFoldDataDriven(t *testing.T) {
	files, err := filepath.Glob("testdata/fold/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no data-driven files: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cases, comments := parseDD(t, path)
			var out strings.Builder
			for n, c := range cases {
				var got string
				t.Run(c.name, func(t *testing.T) {
					got = runDD(t, c)
					if !*rewrite && got != c.want {
						t.Errorf("%s:%d: output differs (run with -rewrite to accept)\n--- got\n%s\n--- want\n%s", path, c.line, got, c.want)
					}
				})
				out.WriteString(comments[n])
				fmt.Fprintf(&out, "%s\n%s\n----\n%s\n\n", c.header, strings.Join(c.input, "\n"), got)
			}
			out.WriteString(comments[len(cases)])
			if *rewrite {
				if err := os.WriteFile(path, []byte(strings.TrimRight(out.String(), "\n")+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func runDD(t *testing.T, c ddCase) string {
	b := newBook()
	var sims []simulate.Scenario
	steps := 0
	for _, in := range c.input {
		verb, arg, _ := strings.Cut(in, " ")
		switch verb {
		case "file":
			b.apply(t, mustRead(t, arg))
			steps++
		case "envelope":
			b.apply(t, []byte(arg))
			steps++
		case "sim":
			opts := simOptions(t, arg)
			for _, cb := range simulate.Generate(opts) {
				b.apply(t, cb.Body)
				steps++
			}
			sims = append(sims, simulate.NewScenario(opts, 0))
		default:
			t.Fatalf("unknown input %q", in)
		}
	}
	for _, sc := range sims {
		checkTruth(t, b, sc)
	}
	return render(b, steps)
}

func simOptions(t *testing.T, args string) simulate.Options {
	opts := simulate.Options{Orders: 1}
	for _, f := range strings.Fields(args) {
		k, v, _ := strings.Cut(f, "=")
		var err error
		switch k {
		case "seed":
			opts.Seed, err = strconv.ParseUint(v, 10, 64)
		case "lifecycle":
			opts.Lifecycles = []string{v}
		case "retry":
			opts.RetryRate, err = strconv.ParseFloat(v, 64)
		case "dup":
			opts.DupRate, err = strconv.ParseFloat(v, 64)
		case "shuffle":
			opts.Shuffle = true
		default:
			err = fmt.Errorf("unknown option")
		}
		if err != nil {
			t.Fatalf("sim %s: %v", f, err)
		}
	}
	return opts
}

// render prints the book as stable text: refunds, orders, then the facts in
// emission order.
func render(b *book, steps int) string {
	var w strings.Builder
	fmt.Fprintf(&w, "callbacks %d\n", steps)
	for _, k := range keys(b.refunds) {
		st := b.refunds[k].State
		fmt.Fprintf(&w, "refund %s order=%s status=%s phase=%s terminal=%v booked=%d snapshots=%d\n",
			k, st.OrderID, st.Status, st.Phase, st.Terminal, st.Booked, st.Snapshots)
		a := st.Amounts
		fmt.Fprintf(&w, "  amounts apply=%d+%d refund=%d+%d\n", a.ApplyPayment, a.ApplyCarriage, a.RefundPayment, a.RefundCarriage)
		for _, o := range st.Operations {
			fmt.Fprintf(&w, "  op %s %s type=%d role=%d %s -> %s\n", o.ID, o.At, o.Type, o.Role, orEmpty(o.From), o.To)
		}
		for _, p := range st.Postings {
			fmt.Fprintf(&w, "  posting %s %s amount=%d goods=%d carriage=%d at=%s\n", p.ID, p.Kind, p.Amount, p.Goods, p.Carriage, p.At)
		}
		writeAnomalies(&w, st.Anomalies)
	}
	for _, k := range keys(b.orders) {
		st := b.orders[k].State
		cur := ledger.OrderTotals{}
		if st.Current != nil {
			cur = *st.Current
		}
		paidTotal := "unknown"
		if st.PaidTotalKnown {
			paidTotal = fmt.Sprint(st.PaidTotal)
		}
		fmt.Fprintf(&w, "order %s status=%s total=%d shipping=%d paid=%v paidTotal=%s refunded=%d refunds=%d\n",
			k, orEmpty(cur.Status), cur.TotalAmount, cur.ShippingFee, st.Paid, paidTotal, st.RefundedTotal, len(st.Refunds))
		for _, s := range st.StatusHistory {
			fmt.Fprintf(&w, "  status %s %s (%s)\n", s.At, s.Status, s.Type)
		}
		for _, p := range st.PriceHistory {
			fmt.Fprintf(&w, "  price %s total=%d shipping=%d product=%d diff=%d/%d/%d\n",
				p.At, p.TotalAmount, p.ShippingFee, p.ProductAmount, p.DiffTotal, p.DiffShipping, p.DiffProduct)
		}
		writeAnomalies(&w, st.Anomalies)
	}
	fmt.Fprintf(&w, "facts %d\n", len(b.facts))
	for _, f := range b.facts {
		fmt.Fprintf(&w, "  %s %s\n", f.Kind, f.ID)
	}
	return strings.TrimRight(w.String(), "\n")
}

func writeAnomalies(w *strings.Builder, list []ledger.Anomaly) {
	for _, a := range list {
		if a.Ref == "" {
			fmt.Fprintf(w, "  anomaly %s: %s\n", a.Code, a.Detail)
		} else {
			fmt.Fprintf(w, "  anomaly %s %s: %s\n", a.Code, a.Ref, a.Detail)
		}
	}
}

func orEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
