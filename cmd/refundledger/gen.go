package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"refundledger/ledger/simulate"
)

// maxDupRate is the largest --dup-rate: a copy is repeated while a draw falls
// under it, 10 copies a delivery on average at 0.9.
const maxDupRate = 0.9

func genCmd() *cobra.Command {
	var (
		opts        simulate.Options
		lifecycles  string
		post        string
		concurrency int
	)
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate the callbacks Xportcn would send for simulated orders and refunds",
		Long: `Generate realistic callback traffic: orders and their refunds through every
lifecycle, each step a full snapshot, delivered shuffled, duplicated and
retried, some bodies as JSON strings and some times in other forms. The same
--seed gives the same bytes.

Without --post the callbacks are written to stdout, one JSON envelope a line.
With --post they are POSTed to a running service's callback URL, with the
progress on stderr (a bar on a terminal, plain lines otherwise) and a summary
on stdout.

Lifecycles: ` + strings.Join(simulate.Lifecycles(), ", "),
		Example: `  refundledger gen --orders 1000 > callbacks.jsonl
  refundledger gen --orders 1000 --post http://127.0.0.1:8080/callbacks/xportcn`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if lifecycles != "" {
				opts.Lifecycles = strings.Split(lifecycles, ",")
				known := map[string]bool{}
				for _, l := range simulate.Lifecycles() {
					known[l] = true
				}
				for _, l := range opts.Lifecycles {
					if !known[l] {
						return fmt.Errorf("--lifecycles: %q is not one of %s", l, strings.Join(simulate.Lifecycles(), ", "))
					}
				}
			}
			if opts.Orders < 1 {
				return fmt.Errorf("--orders must be at least 1")
			}
			// A copy is repeated while a draw falls under --dup-rate: at 1
			// that never ends, near it the copies are without number.
			if opts.DupRate < 0 || opts.DupRate > maxDupRate {
				return fmt.Errorf("--dup-rate %g: want a probability from 0 to %g", opts.DupRate, maxDupRate)
			}
			if opts.RetryRate < 0 || opts.RetryRate > 1 {
				return fmt.Errorf("--retry-rate %g: want a probability from 0 to 1", opts.RetryRate)
			}
			if post != "" {
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return genPost(ctx, post, opts, concurrency, cmd.OutOrStdout(), cmd.ErrOrStderr())
			}
			return genJSONL(opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Orders, "orders", 100, "number of orders to simulate")
	fl.Uint64Var(&opts.Seed, "seed", 1, "random seed; the same seed gives the same callbacks")
	fl.Float64Var(&opts.DupRate, "dup-rate", 0.05, fmt.Sprintf("probability that a delivery is repeated (again and again: at most %g)", maxDupRate))
	fl.Float64Var(&opts.RetryRate, "retry-rate", 0.02, "probability that a push fails and comes back as retries, 30 minutes apart")
	fl.BoolVar(&opts.Shuffle, "shuffle", true, "deliver out of order (within a window of orders)")
	fl.StringVar(&lifecycles, "lifecycles", "", "comma list of lifecycles to draw from (default: all)")
	fl.StringVar(&post, "post", "", "POST each callback to this URL instead of printing it")
	fl.IntVar(&concurrency, "concurrency", 16, "requests in flight with --post")
	return cmd
}

func genJSONL(opts simulate.Options, out, errOut io.Writer) error {
	w := bufio.NewWriterSize(out, 1<<16)
	n := 0
	err := simulate.Each(opts, func(c simulate.Callback) error {
		n++
		if _, err := w.Write(c.Body); err != nil {
			return err
		}
		return w.WriteByte('\n')
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(errOut, "generated %s for %s (seed %d)\n", plural(n, "callback"), plural(opts.Orders, "order"), opts.Seed)
	return nil
}

// genRedrawEvery is how often gen --post redraws its progress (on a
// terminal; plain lines come at most every plainEvery).
const genRedrawEvery = 250 * time.Millisecond

// genPost posts the simulation to url with a progress bar on errOut. The
// count is of requests done (simulate.Post's progress), and the bar says how
// many of them were not answered 200; the total is counted by a pass of the
// same (deterministic) simulation beside the posting, and the bar is drawn
// once it is known.
func genPost(ctx context.Context, url string, opts simulate.Options, concurrency int, out, errOut io.Writer) error {
	var posted, failed atomic.Int64
	var total atomic.Uint64
	counting, stopCounting := context.WithCancel(ctx)
	defer stopCounting()
	go func() {
		var n uint64
		if simulate.Each(opts, func(simulate.Callback) error { n++; return counting.Err() }) == nil {
			total.Store(n)
		}
	}()
	bar := newProgress(errOut, "post", "callbacks")
	start := time.Now()
	rateOf := func(n uint64) float64 { return float64(n) / max(time.Since(start).Seconds(), 1e-3) }
	stopBar, barStopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(barStopped)
		tick := time.NewTicker(genRedrawEvery)
		defer tick.Stop()
		for {
			select {
			case <-stopBar:
				return
			case <-tick.C:
				if n, t := uint64(posted.Load()), total.Load(); t > 0 && n < t {
					if f := failed.Load(); f > 0 {
						bar.note = plural(f, "callback") + " not answered 200"
					}
					bar.update(n, t, rateOf(n), false)
				}
			}
		}
	}()
	st, err := simulate.Post(ctx, url, opts, concurrency, func(done, notOK int64) {
		raiseTo(&posted, done)
		raiseTo(&failed, notOK)
	})
	close(stopBar)
	<-barStopped
	// The bar counts callbacks posted, answered or not (simulate.Post's
	// progress says no more): it ends at 100% only when every one was
	// answered 200, so that a run against a service that is down does not
	// end on a full bar. The error below says what became of them.
	if err == nil && st.OK == st.Sent+st.Errors {
		n := uint64(st.Sent + st.Errors)
		bar.update(n, n, rateOf(n), true)
	} else {
		bar.stop()
	}
	t := newTable(numCol("sent"), numCol("answered 200"), numCol("other status"), numCol("no answer"), numCol("seconds"), numCol("per second"))
	rate := 0.0
	if s := st.Elapsed.Seconds(); s > 0 {
		rate = float64(st.Sent) / s
	}
	t.row(fmtCount(uint64(st.Sent)), fmtCount(uint64(st.OK)), fmtCount(uint64(st.Rejected)), fmtCount(uint64(st.Errors)),
		fmt.Sprintf("%.2f", st.Elapsed.Seconds()), fmtCount(uint64(rate)))
	t.write(out)
	if err == nil {
		err = notAnswered200(st)
	}
	return err
}

// notAnswered200 says, when some callbacks were not answered 200, how many
// were and what became of the others; nil when all were.
func notAnswered200(st simulate.Stats) error {
	total := st.Sent + st.Errors
	if st.OK == total {
		return nil
	}
	were := "were"
	if total == 1 {
		were = "was"
	}
	var others []string
	if st.Rejected > 0 {
		others = append(others, fmtCount(uint64(st.Rejected))+" got another status")
	}
	if st.Errors > 0 {
		others = append(others, fmtCount(uint64(st.Errors))+" got no answer (is refundledger serve running? --post says where)")
	}
	return fmt.Errorf("%s of %s %s answered 200: %s", fmtCount(uint64(st.OK)), plural(total, "callback"), were, strings.Join(others, ", "))
}

// raiseTo sets v to n unless it already holds more: the posting goroutines
// report their counts in any order, and the bar must not step back.
func raiseTo(v *atomic.Int64, n int64) {
	for {
		old := v.Load()
		if n <= old || v.CompareAndSwap(old, n) {
			return
		}
	}
}
