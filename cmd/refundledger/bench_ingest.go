package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"refundledger/ingest"
)

// benchIngestFlags are the settings of `refundledger bench ingest`.
type benchIngestFlags struct {
	concurrency int
	requests    int
	duration    time.Duration
	rounds      int
	sync        string
	data        string
	seed        string
}

// benchSyncInterval is the fsync interval of `--sync interval`, the same as
// serve's (1 s).
const benchSyncInterval = time.Second

func benchIngestCmd() *cobra.Command {
	var f benchIngestFlags
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Measure the ingest path against raw JetStream publishing and a bare HTTP exchange",
		Long: `Measure, in one run on loopback, for each fsync mode of JetStream:

  raw      goroutines publishing straight to JetStream, in each publish mode
           ingest can use (J is the best of them: the storage limit)
  ceiling  the same HTTP server and client with a handler that only reads
           the body (H: the HTTP limit)
  full     the real ingest handler over loopback HTTP

and print req/s, p50 and p99 latency and full / (1/(1/J + 1/H)), the share
of the serial cost of an HTTP exchange plus a publish that the full path
reaches. With --sync always it also prints the per-message fsync rate (the
best raw rate publishing one message per fsync) and the multiple the full
path reaches over it.

Every request carries the seed callback with its own envelope id, so no
request is a duplicate. An embedded NATS server is started per mode on a
store under --data (a temporary directory by default, removed afterwards).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			serveGC() // the path measured is serve's
			return profiled(cmd, func() error { return benchIngest(ctx, f, cmd.OutOrStdout()) })
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.concurrency, "concurrency", 64, "concurrent clients (and publishers) in every phase")
	fl.IntVar(&f.requests, "requests", 100_000, "most requests per phase")
	fl.DurationVar(&f.duration, "duration", 3*time.Second, "longest time per phase")
	fl.IntVar(&f.rounds, "rounds", ingest.DefaultBenchRounds, "slices per phase, run in turn with the other phases' so background load hits all alike")
	fl.StringVar(&f.sync, "sync", "both", "JetStream fsync mode to measure: interval (every 1 s, as serve), always, or both")
	fl.StringVar(&f.data, "data", "", "directory for the NATS stores (default: a temporary directory, removed afterwards)")
	fl.StringVar(&f.seed, "seed", filepath.Join("testdata", "xportcn", "1688-refund-refundonly-success.json"), "callback body sent by every request (with its own envelope id)")
	return cmd
}

func benchIngest(ctx context.Context, f benchIngestFlags, out io.Writer) error {
	var modes []string
	switch f.sync {
	case "interval", "always":
		modes = []string{f.sync}
	case "both":
		modes = []string{"interval", "always"}
	default:
		return fmt.Errorf("--sync %q: want interval, always or both", f.sync)
	}
	if f.concurrency < 1 || f.requests < 1 || f.duration <= 0 || f.rounds < 1 {
		return fmt.Errorf("--concurrency, --requests, --duration and --rounds must be positive")
	}
	seed, err := os.ReadFile(f.seed)
	if err != nil {
		return fmt.Errorf("--seed: %w (run from the repository root or pass --seed)", err)
	}
	data := f.data
	if data == "" {
		if data, err = os.MkdirTemp("", "refundledger-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(data)
	}
	fmt.Fprintf(out, "refundledger bench ingest: concurrency %d, at most %d requests or %v per phase in %d rounds, seed %s\n",
		f.concurrency, f.requests, f.duration, f.rounds, filepath.Base(f.seed))
	fmt.Fprintln(out, "every request carries a distinct envelope id, so none is a duplicate")
	var results []ingest.BenchResult
	for _, mode := range modes {
		res, err := benchIngestMode(ctx, f, mode, filepath.Join(data, mode), seed)
		if err != nil {
			return fmt.Errorf("sync %s: %w", mode, err)
		}
		results = append(results, res)
	}
	fmt.Fprintln(out)
	return ingest.PrintBench(out, results)
}

// benchIngestMode runs one sync mode on its own embedded server.
func benchIngestMode(ctx context.Context, f benchIngestFlags, mode, dir string, seed []byte) (ingest.BenchResult, error) {
	opts := ingest.EmbeddedOptions{StoreDir: dir}
	if mode == "always" {
		opts.SyncAlways = true
	} else {
		opts.SyncInterval = benchSyncInterval
	}
	conn, err := connect("", opts, "refundledger bench ingest")
	if err != nil {
		return ingest.BenchResult{}, err
	}
	defer conn.Close()
	js := conn.JS
	if _, err := ingest.EnsureStream(ctx, js, 1); err != nil {
		return ingest.BenchResult{}, err
	}
	return ingest.RunBench(ctx, ingest.BenchOptions{
		JS:          js,
		Seeds:       [][]byte{seed},
		Concurrency: f.concurrency,
		Requests:    f.requests,
		Duration:    f.duration,
		Rounds:      f.rounds,
		Label:       mode,
		SyncAlways:  mode == "always",
	})
}
