package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"refundledger/ingest"
	"refundledger/ledger/simulate"
	"refundledger/projections"
	"refundledger/proto"
)

func benchReplayCmd() *cobra.Command {
	var sizes string
	var seed uint64
	var natsChild bool
	var rounds int
	var rowJSON bool
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Measure a full rebuild against reading the stream alone, in one run",
		Long: `For each N: fill a fresh stream (embedded NATS, temporary directory) with N
simulated callbacks, then measure in the same run, --rounds times in turn (so
that the neighbours' load falls on both alike)
  raw   read every message with a consumer and decode only the envelope;
  full  rebuild the projection from scratch (decode, fold, Pebble) and close
        its store, as a rebuild does before the swap.
It prints the median callbacks/s of both, the median of the rounds' full/raw
ratios with their range, and full/raw by CPU: the CPU time of a raw phase over
that of a full one, NATS included, which is what full/raw would be if both
phases were limited by the CPU alone (steadier than rates on a shared
machine). Then each phase's CPU time per 100k callbacks and its peak RSS in
the first round (as a rebuild process sees it). Given several sizes, each is
measured by a process of its own, so no row's memory includes another's.
NATS is embedded, as in serve, so that CPU and RSS include the server; with
--nats-child the server runs in a child process, the figures of the phases
are the reader's and the projection's alone, and the server's are printed
beside.`,
		Example: "  refundledger bench replay --n 100000,500000",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ns []int
			for _, s := range strings.Split(sizes, ",") {
				n, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil || n < 1 {
					return fmt.Errorf("--n: %q is not a positive count", s)
				}
				ns = append(ns, n)
			}
			if rounds < 1 {
				return fmt.Errorf("--rounds: %d is not a positive count", rounds)
			}
			for _, flag := range []string{"cpuprofile", "memprofile"} {
				if p, _ := cmd.Flags().GetString(flag); p != "" && len(ns) > 1 {
					// Several sizes run in child processes: a profile of this
					// one would show it waiting.
					return fmt.Errorf("--%s profiles one size at a time: give --n a single count", flag)
				}
			}
			if rowJSON {
				if len(ns) != 1 {
					return errors.New("--row-json measures one size")
				}
				row, err := replayOnce(cmd.Context(), ns[0], seed, natsChild, rounds, cmd.ErrOrStderr())
				if err != nil {
					return err
				}
				return json.NewEncoder(cmd.OutOrStdout()).Encode(row)
			}
			return profiled(cmd, func() error {
				return benchReplay(cmd.Context(), ns, seed, natsChild, rounds, cmd.OutOrStdout(), cmd.ErrOrStderr())
			})
		},
	}
	cmd.Flags().StringVar(&sizes, "n", "200000", "callbacks in the stream; a comma list runs each size")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "simulation seed")
	cmd.Flags().IntVar(&rounds, "rounds", 3, "raw and full phases measured in turn this many times; medians are printed")
	cmd.Flags().BoolVar(&rowJSON, "row-json", false, "measure one size and print its row as JSON (how the table's rows are made)")
	cmd.Flags().MarkHidden("row-json")
	cmd.Flags().BoolVar(&natsChild, "nats-child", false, "run NATS in a child process and report its CPU and RSS apart (default: embedded, as serve)")
	return cmd
}

// replayRow is one N: medians over the rounds. It travels as JSON from the
// process that measured it (see benchReplay).
type replayRow struct {
	N                  int
	RawRate, FullRate  float64 // callbacks/s
	Ratio              float64 // of the rounds' full/raw
	RatioMin, RatioMax float64
	// CPURatio is the median of the rounds' full/raw by CPU (see
	// replayRound.cpuRatio).
	CPURatio        float64
	Full            time.Duration // wall time of a full phase
	RawCPU, FullCPU time.Duration // this process's CPU time in a phase
	// The NATS server's CPU time in a phase, when it runs in a child
	// process (embedded, it is in RawCPU and FullCPU).
	RawNATSCPU, FullNATSCPU time.Duration
	// Close is the part of Full spent closing the rebuilt store: its last
	// flush, a compaction still running, and one more when L0 is too deep
	// for a live store (a rebuild closes its store before the swap).
	Close time.Duration
	// Peak RSS of the first round, as a rebuild process sees it: later
	// rounds start from what the C allocator kept of the one before
	// (Pebble's memtables and cache live outside the Go heap).
	RawRSS, FullRSS uint64 // this process: the reader, then the projection
	NATSRSS         uint64 // the NATS server process, during the full phase
}

// replayRound is what one round of raw then full measured.
type replayRound struct {
	raw, full, close        time.Duration // wall times
	rawCPU, fullCPU         time.Duration // this process
	rawNATSCPU, fullNATSCPU time.Duration // the NATS child (0 when embedded)
	rawRate, fullRate       float64
}

// cpuRatio is the round's full/raw by CPU: the CPU time of the raw phase
// over that of the full phase, NATS included. It is what full/raw would be if
// both phases were limited by the CPU alone, and it does not depend on how
// much of the machine the neighbours took during each phase.
func (r replayRound) cpuRatio() float64 {
	return (r.rawCPU + r.rawNATSCPU).Seconds() / (r.fullCPU + r.fullNATSCPU).Seconds()
}

// median returns the median of xs (the mean of the two middle ones for an
// even count); xs is sorted.
func median[T float64 | time.Duration](xs []T) T {
	slices.Sort(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// benchReplay measures each size and prints the table. With more than one
// size, each is measured by a process of its own (this binary, --row-json),
// so that no size's peak RSS includes what the allocators kept of another.
func benchReplay(ctx context.Context, sizes []int, seed uint64, natsChild bool, rounds int, out, errOut io.Writer) error {
	fmt.Fprintf(out, "bench replay: %s (GOMAXPROCS %d), %s\n", plural(runtime.NumCPU(), "core"), runtime.GOMAXPROCS(0), runtime.Version())
	var rows []replayRow
	for _, n := range sizes {
		var row replayRow
		var err error
		if len(sizes) == 1 {
			row, err = replayOnce(ctx, n, seed, natsChild, rounds, errOut)
		} else {
			row, err = replayInChild(ctx, n, seed, natsChild, rounds, errOut)
		}
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	return replayTables(out, rows, natsChild, rounds)
}

// replayTables prints the rows: speed first, then what each phase cost.
func replayTables(out io.Writer, rows []replayRow, natsChild bool, rounds int) error {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\traw callbacks/s\tfull callbacks/s\tfull/raw\tfull/raw by CPU\tfull seconds\tof which closing\t")
	for _, r := range rows {
		ratio := fmt.Sprintf("%.2f", r.Ratio)
		if rounds > 1 {
			ratio += fmt.Sprintf(" (%.2f-%.2f)", r.RatioMin, r.RatioMax)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t\n", fmtCount(uint64(r.N)), fmtCount(uint64(r.RawRate)),
			fmtCount(uint64(r.FullRate)), ratio, r.CPURatio, r.Full.Seconds(), r.Close.Seconds())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out)
	tw = tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	header := "N\traw CPU s/100k\tfull CPU s/100k\t"
	if natsChild {
		header += "NATS raw CPU s/100k\tNATS full CPU s/100k\t"
	}
	header += "raw peak RSS\tfull peak RSS\t"
	if natsChild {
		header += "NATS peak RSS\t"
	}
	fmt.Fprintln(tw, header)
	per100k := func(r replayRow, d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()*1e5/float64(r.N)) }
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t", fmtCount(uint64(r.N)), per100k(r, r.RawCPU), per100k(r, r.FullCPU))
		if natsChild {
			fmt.Fprintf(tw, "%s\t%s\t", per100k(r, r.RawNATSCPU), per100k(r, r.FullNATSCPU))
		}
		fmt.Fprintf(tw, "%d MiB\t%d MiB\t", r.RawRSS>>20, r.FullRSS>>20)
		if natsChild {
			fmt.Fprintf(tw, "%d MiB\t", r.NATSRSS>>20)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	where := "this process, NATS embedded in it"
	if natsChild {
		where = "this process, and the NATS server in its own"
	}
	_, err := fmt.Fprintf(out, `medians of %s (raw then full, in turn)
full/raw: median of the rounds' ratios of callbacks/s (range)
full/raw by CPU: median of the rounds' raw CPU / full CPU, NATS included: the ratio if both phases were limited by CPU alone
CPU: %s; RSS: peak in the first round
`, plural(rounds, "round"), where)
	return err
}

// replayInChild runs `bench replay --row-json` for one size in a new
// process and reads its row.
func replayInChild(ctx context.Context, n int, seed uint64, natsChild bool, rounds int, errOut io.Writer) (replayRow, error) {
	self, err := os.Executable()
	if err != nil {
		return replayRow{}, err
	}
	args := []string{"bench", "replay", "--row-json", "--n", strconv.Itoa(n), "--seed", strconv.FormatUint(seed, 10),
		"--rounds", strconv.Itoa(rounds)}
	if natsChild {
		args = append(args, "--nats-child")
	}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = errOut
	stdout, err := cmd.Output()
	if err != nil {
		return replayRow{}, fmt.Errorf("bench replay --n %d: %w", n, err)
	}
	var row replayRow
	if err := json.Unmarshal(stdout, &row); err != nil {
		return replayRow{}, fmt.Errorf("bench replay --n %d: its row: %w", n, err)
	}
	return row, nil
}

func replayOnce(ctx context.Context, n int, seed uint64, natsChild bool, rounds int, errOut io.Writer) (replayRow, error) {
	row := replayRow{N: n}
	dir, err := os.MkdirTemp("", "refundledger-bench-replay-")
	if err != nil {
		return row, err
	}
	defer os.RemoveAll(dir)
	// NATS is embedded, as in serve; with --nats-child it runs in a process
	// of its own, so that the peak RSS measured here is the projection's
	// alone and the server's is reported beside it.
	url, natsPID := "", ""
	if natsChild {
		child, err := startNATSChild(filepath.Join(dir, "nats"))
		if err != nil {
			return row, err
		}
		defer child.Stop()
		url, natsPID = child.URL, child.PID
	}
	conn, err := connect(url, ingest.EmbeddedOptions{StoreDir: filepath.Join(dir, "nats"), SyncInterval: time.Minute},
		"refundledger bench replay", jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return row, err
	}
	defer conn.Close()
	js := conn.JS
	if _, err := ingest.EnsureStream(ctx, js, 1); err != nil {
		return row, err
	}
	if err := fillStream(ctx, js, n, seed, errOut); err != nil {
		return row, err
	}
	runtime.GC()
	debug.FreeOSMemory()
	defer bulkGC(conn.ns != nil)() // both phases, as a rebuild runs

	var got []replayRound
	for r := range rounds {
		round, err := measureRound(ctx, js, n, filepath.Join(dir, fmt.Sprintf("pebble-%d", r)), natsPID, &row, errOut)
		if err != nil {
			return row, err
		}
		got = append(got, round)
	}
	var raws, fulls, ratios, cpuRatios []float64
	var walls, closes, rawCPUs, fullCPUs, rawNATS, fullNATS []time.Duration
	for _, g := range got {
		raws, fulls, ratios = append(raws, g.rawRate), append(fulls, g.fullRate), append(ratios, g.fullRate/g.rawRate)
		cpuRatios = append(cpuRatios, g.cpuRatio())
		walls, closes = append(walls, g.full), append(closes, g.close)
		rawCPUs, fullCPUs = append(rawCPUs, g.rawCPU), append(fullCPUs, g.fullCPU)
		rawNATS, fullNATS = append(rawNATS, g.rawNATSCPU), append(fullNATS, g.fullNATSCPU)
	}
	row.RawRate, row.FullRate, row.Ratio = median(raws), median(fulls), median(ratios)
	row.RatioMin, row.RatioMax = ratios[0], ratios[len(ratios)-1] // median sorted them
	row.CPURatio = median(cpuRatios)
	row.Full, row.Close = median(walls), median(closes)
	row.RawCPU, row.FullCPU = median(rawCPUs), median(fullCPUs)
	row.RawNATSCPU, row.FullNATSCPU = median(rawNATS), median(fullNATS)
	return row, nil
}

// measureRound measures one round: the raw phase, then a full rebuild into
// dir (removed afterwards). The first round records its peak RSS in row.
func measureRound(ctx context.Context, js jetstream.JetStream, n int, dir, natsPID string, row *replayRow, errOut io.Writer) (replayRound, error) {
	var round replayRound
	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS("self")
	start, cpu, natsCPU := time.Now(), cpuTime(), procCPU(natsPID)
	var read int
	var err error
	pprof.Do(ctx, pprof.Labels("phase", "raw"), func(ctx context.Context) {
		read, err = readEnvelopes(ctx, js, uint64(n), errOut)
	})
	if err != nil {
		return round, err
	}
	round.raw, round.rawCPU, round.rawNATSCPU = time.Since(start), cpuTime()-cpu, procCPU(natsPID)-natsCPU
	round.rawRate = float64(read) / round.raw.Seconds()
	if row.RawRSS == 0 {
		row.RawRSS = peakRSS("self")
	}

	runtime.GC()
	debug.FreeOSMemory()
	resetPeakRSS("self")
	if natsPID != "" {
		resetPeakRSS(natsPID)
	}
	bar := newProgress(errOut, "full", "callbacks")
	start, cpu, natsCPU = time.Now(), cpuTime(), procCPU(natsPID)
	var store *projections.Store
	pprof.Do(ctx, pprof.Labels("phase", "full"), func(ctx context.Context) {
		store, err = projections.Rebuild(ctx, projections.RebuildConfig{
			JS: js, Stream: ingest.StreamName, Dir: dir,
			Logger:   slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn})),
			Progress: func(p projections.RebuildProgress) { bar.update(p.Checkpoint, p.Target, p.Rate, p.Done) },
		})
	})
	if err != nil {
		return round, err
	}
	// Closing is part of the phase: a rebuild closes its store before the
	// swap, and the close waits for a compaction still running, whose work
	// the fold caused.
	cp, _ := store.Checkpoint()
	closing := time.Now()
	if err := store.Close(); err != nil {
		return round, err
	}
	round.close = time.Since(closing)
	round.full, round.fullCPU, round.fullNATSCPU = time.Since(start), cpuTime()-cpu, procCPU(natsPID)-natsCPU
	if row.FullRSS == 0 {
		row.FullRSS = peakRSS("self")
		if natsPID != "" {
			row.NATSRSS = peakRSS(natsPID)
		}
	}
	if cp != uint64(n) {
		return round, fmt.Errorf("the rebuild stopped at %d of %d", cp, n)
	}
	round.fullRate = float64(cp) / round.full.Seconds()
	return round, os.RemoveAll(dir)
}

// fillStream publishes n simulated callbacks (orders are added until there
// are enough) the way the ingester stores them.
func fillStream(ctx context.Context, js jetstream.JetStream, n int, seed uint64, errOut io.Writer) error {
	bar := newProgress(errOut, "fill", "callbacks")
	start := time.Now()
	sent := 0
	stop := errors.New("enough")
	err := simulate.Each(simulate.Options{Seed: seed, Orders: n, DupRate: 0.05, RetryRate: 0.02, Shuffle: true}, func(c simulate.Callback) error {
		if sent == n {
			return stop
		}
		r, err := proto.DecodeRoute(c.Body)
		if err != nil {
			return err
		}
		m := nats.NewMsg(ingest.Subject(r))
		m.Data = c.Body
		m.Header.Set(proto.HeaderReceivedAt, time.UnixMilli(c.DeliverAt).UTC().Format(time.RFC3339Nano))
		// No Nats-Msg-Id: the bench wants exactly n messages, duplicates included.
		if _, err := js.PublishMsgAsync(m); err != nil {
			return err
		}
		sent++
		if sent%10000 == 0 {
			bar.update(uint64(sent), uint64(n), float64(sent)/time.Since(start).Seconds(), false)
		}
		return nil
	})
	if err != nil && !errors.Is(err, stop) {
		return err
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return ctx.Err()
	}
	bar.update(uint64(sent), uint64(n), float64(sent)/time.Since(start).Seconds(), true)
	if sent != n {
		return fmt.Errorf("the simulation gave only %d callbacks", sent)
	}
	return nil
}

// readEnvelopes reads the whole stream with an ordered consumer and decodes
// each envelope: the floor under which no fold can go.
func readEnvelopes(ctx context.Context, js jetstream.JetStream, last uint64, errOut io.Writer) (int, error) {
	stream, err := js.Stream(ctx, ingest.StreamName)
	if err != nil {
		return 0, err
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return 0, err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2000))
	if err != nil {
		return 0, err
	}
	defer it.Stop()
	bar := newProgress(errOut, "raw", "callbacks")
	start := time.Now()
	read := 0
	for {
		msg, err := it.Next()
		if err != nil {
			return read, err
		}
		if _, err := proto.DecodeEnvelope(msg.Data()); err != nil {
			return read, fmt.Errorf("callback %d: %w", read+1, err)
		}
		read++
		meta, err := msg.Metadata()
		if err != nil {
			return read, err
		}
		if read%20000 == 0 {
			bar.update(uint64(read), last, float64(read)/time.Since(start).Seconds(), false)
		}
		if meta.Sequence.Stream >= last {
			bar.update(uint64(read), last, float64(read)/time.Since(start).Seconds(), true)
			return read, nil
		}
	}
}
