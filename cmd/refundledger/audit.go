package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"refundledger/ingest"
	"refundledger/projections"
)

// errAuditFailed makes `audit` exit non-zero when it found differences.
var errAuditFailed = errors.New("the projection differs from the fold of the stream")

// errEventsAuditFailed makes `audit --events` exit non-zero when a fact is
// missing from REFUND_EVENTS or there twice.
var errEventsAuditFailed = errors.New("REFUND_EVENTS lacks facts of the outbox, or holds one twice")

func auditCmd() *cobra.Command {
	var admin, data string
	var events bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Check that the projection equals a fresh fold of the stream up to its checkpoint",
		Long: `Fold the callback stream again, from its first message up to the projection's
checkpoint, into a scratch directory, and compare every key and value with the
live projection (invariant 2 of the design). Exits 1 when anything differs,
2 when the audit could not be made (no service, no data, stopped).

With --events the service checks what downstream services were given
instead: the fact id of every event in REFUND_EVENTS against its outbox. A
fact of a callback the events reach but missing from them, or published
twice, exits 1; facts of later callbacks are pending (the relay is behind),
and events of facts the fold no longer derives are counted, not errors.

By default the running service does it (GET /v1/audit on --admin), beside its
live work, and answers when it is done; meanwhile its progress (GET
/v1/status) is shown. With --data the service must be stopped: the audit
reads DATA/nats and DATA/pebble itself. Either way the progress of the fold
is on stderr (a bar on a terminal, plain lines otherwise).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if events {
				if data != "" {
					return troubleError{errors.New("--events asks the running service (--admin); it does not read --data")}
				}
				var rep projections.EventsReport
				if err := adminGet(cmd.Context(), admin, "/v1/audit/events", timeout, &rep); err != nil {
					return troubleError{err}
				}
				printEventsAudit(cmd.OutOrStdout(), rep)
				if !rep.OK {
					return errEventsAuditFailed
				}
				return nil
			}
			var rep projections.AuditReport
			var err error
			if data != "" {
				// Ctrl-C stops the fold and removes its scratch directory.
				ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				rep, err = auditOffline(ctx, data, cmd.ErrOrStderr())
			} else {
				rep, err = auditAdmin(cmd.Context(), admin, timeout, cmd.ErrOrStderr())
			}
			if err != nil {
				return troubleError{err}
			}
			printAudit(cmd.OutOrStdout(), rep)
			if !rep.OK {
				return errAuditFailed
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&admin, "admin", defaultAdmin, "admin address of the running service")
	cmd.Flags().StringVar(&data, "data", "", "audit this data directory offline instead (the service must be stopped)")
	cmd.Flags().BoolVar(&events, "events", false, "check REFUND_EVENTS against the outbox instead: every fact published, none twice")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Minute, "how long to wait for the service's audit")
	return cmd
}

// auditor returns the audit the admin API serves, with a scratch directory
// beside the projection. An audit stops when its request ends or when life
// does (the service shutting down: the admin listener's shutdown would
// otherwise wait for the audit, up to its client's timeout).
func auditor(life context.Context, js jetstream.JetStream, proj *projections.Projection, scratch string, log *slog.Logger) func(context.Context, func(folded, total uint64)) (projections.AuditReport, error) {
	return func(ctx context.Context, progress func(folded, total uint64)) (projections.AuditReport, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(life, cancel)()
		return projections.Audit(ctx, proj.Store(), projections.AuditConfig{JS: js, Stream: ingest.StreamName, Scratch: scratch, Logger: log,
			Progress: progress})
	}
}

// eventsAuditor returns the audit of REFUND_EVENTS the admin API serves.
func eventsAuditor(js jetstream.JetStream, proj *projections.Projection) func(context.Context) (projections.EventsReport, error) {
	return func(ctx context.Context) (projections.EventsReport, error) {
		stream, err := js.Stream(ctx, projections.EventsStream)
		if err != nil {
			return projections.EventsReport{}, fmt.Errorf("stream %s: %w", projections.EventsStream, err)
		}
		return projections.AuditEvents(ctx, proj.Store(), stream, 0)
	}
}

func printEventsAudit(w io.Writer, rep projections.EventsReport) {
	counts := newTable(textCol(""), numCol(""))
	for _, row := range []struct {
		what string
		n    uint64
	}{
		{"events read", uint64(rep.Events)},
		{"last callback they reach", rep.Reached},
		{"facts up to it", uint64(rep.Facts)},
		{"facts of later callbacks (not yet published)", uint64(rep.Pending)},
		{"missing", uint64(rep.Missing)},
		{"published more than once", uint64(rep.Repeated)},
		{"events of facts no longer derived", uint64(rep.Unknown)},
	} {
		counts.row(row.what, fmtCount(row.n))
	}
	counts.write(w)
	if rep.OK {
		fmt.Fprintln(w, "OK: REFUND_EVENTS holds every fact of the outbox it has reached, each once")
		return
	}
	fmt.Fprintln(w)
	problems := newTable(textCol("PROBLEM"), textCol("FACT"), numCol("CALLBACK"))
	for _, d := range rep.Examples {
		seq := ""
		if d.Seq != 0 {
			seq = fmtCount(d.Seq)
		}
		problems.row(d.Problem, cell(d.FactID), seq)
	}
	problems.write(w)
	if n := rep.Missing + rep.Repeated; n > len(rep.Examples) {
		fmt.Fprintf(w, "(%s more not listed)\n", fmtCount(uint64(n-len(rep.Examples))))
	}
}

// auditStatusEvery is how often `audit` asks the service how far its audit
// has got.
const auditStatusEvery = 500 * time.Millisecond

// auditAdmin has the service audit itself (GET /v1/audit, which answers when
// done) and meanwhile draws its progress, read from GET /v1/status, on
// errOut.
func auditAdmin(ctx context.Context, admin string, timeout time.Duration, errOut io.Writer) (projections.AuditReport, error) {
	var rep projections.AuditReport
	done := make(chan error, 1)
	go func() { done <- adminGet(ctx, admin, "/v1/audit", timeout, &rep) }()
	bar := newProgress(errOut, "audit", "msgs")
	start := time.Now()
	tick := time.NewTicker(auditStatusEvery)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				bar.stop()
				return rep, err
			}
			// The fold reached the checkpoint: the last line says so, also
			// when the audit was done before the first look.
			bar.update(rep.Checkpoint, rep.Checkpoint, float64(rep.Checkpoint)/max(time.Since(start).Seconds(), 1e-3), true)
			return rep, nil
		case <-tick.C:
			var st projections.Status
			if adminGet(ctx, admin, "/v1/status", auditStatusEvery, &st) == nil && st.Audit != nil && st.Audit.Total > 0 {
				// Timed from here: the service's clock may not be this one.
				elapsed := max(time.Since(start).Seconds(), 1e-3)
				bar.update(st.Audit.Folded, st.Audit.Total, float64(st.Audit.Folded)/elapsed, false)
			}
		}
	}
}

func auditOffline(ctx context.Context, data string, errOut io.Writer) (projections.AuditReport, error) {
	var rep projections.AuditReport
	// Both must be there: an empty projection opened here would be "equal"
	// to the fold of nothing, and an audit must not create either.
	for _, part := range []struct{ dir, what string }{
		{filepath.Join(data, "nats"), "no stream"},
		{filepath.Join(data, "pebble"), "no projection"},
	} {
		if fi, err := os.Stat(part.dir); err != nil || !fi.IsDir() {
			return rep, fmt.Errorf("%s in %s: nothing to audit (is --data the directory serve or rebuild uses?)", part.what, part.dir)
		}
	}
	unlock, err := lockDataDir(data)
	if err != nil {
		return rep, err
	}
	defer unlock()
	conn, err := connect("", ingest.EmbeddedOptions{StoreDir: filepath.Join(data, "nats")}, "refundledger audit")
	if err != nil {
		return rep, err
	}
	defer conn.Close()
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	store, err := projections.OpenStore(filepath.Join(data, "pebble"), log)
	if err != nil {
		return rep, err
	}
	defer store.Close()
	defer bulkGC(true)()
	bar := newProgress(errOut, "audit", "msgs")
	start := time.Now()
	rep, err = projections.Audit(ctx, store, projections.AuditConfig{JS: conn.JS, Stream: ingest.StreamName, Scratch: filepath.Join(data, "pebble.audit"), Logger: log,
		Progress: func(folded, total uint64) {
			bar.update(folded, total, float64(folded)/max(time.Since(start).Seconds(), 1e-3), folded == total)
		},
	})
	bar.stop()
	return rep, err
}

func printAudit(w io.Writer, rep projections.AuditReport) {
	counts := newTable(textCol(""), numCol(""))
	counts.row("checkpoint", fmtCount(rep.Checkpoint))
	counts.row("keys compared", fmtCount(uint64(rep.Keys)))
	counts.row("differences", fmtCount(uint64(rep.Differences)))
	counts.write(w)
	if rep.OK {
		fmt.Fprintln(w, "OK: the projection equals the fold of the stream up to its checkpoint")
		return
	}
	fmt.Fprintln(w)
	diffs := newTable(textCol("KIND"), textCol("KEY"))
	for _, d := range rep.Diffs {
		diffs.row(d.Kind, d.Key)
	}
	diffs.write(w)
	if n := rep.Differences - len(rep.Diffs); n > 0 {
		fmt.Fprintf(w, "(%s more not listed)\n", fmtCount(uint64(n)))
	}
	fmt.Fprintln(w, "FAILED: missing = only in a fresh fold, extra = only in the projection; `refundledger rebuild` replaces it")
}
