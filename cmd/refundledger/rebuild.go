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

	"github.com/spf13/cobra"

	"refundledger/ingest"
	"refundledger/projections"
)

func rebuildCmd() *cobra.Command {
	var data, natsURL string
	cmd := &cobra.Command{
		Use:   "rebuild",
		Short: "Fold the whole callback stream into a fresh projection and put it in place",
		Long: `Fold the whole callback stream into DATA/pebble.rebuild, then swap it in as
DATA/pebble. The old projection stays untouched until the new one is complete;
an interrupted rebuild resumes where it stopped.

Without --nats the stream is read from DATA/nats with an embedded server (the
service must be stopped: the data directory is locked). With --nats the stream
of a running service or cluster is read, and the projection is built in
another data directory beside it. A running serve rebuilds by itself when its
fold version or store layout changes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return rebuild(ctx, data, natsURL, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&data, "data", "./data", "data directory whose projection is rebuilt")
	cmd.Flags().StringVar(&natsURL, "nats", "", "read the stream from this NATS server instead of DATA/nats")
	return cmd
}

func rebuild(ctx context.Context, data, natsURL string, out, errOut io.Writer) error {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	unlock, err := lockDataDir(data)
	if err != nil {
		return err
	}
	defer unlock()
	log := slog.New(slog.NewTextHandler(errOut, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if natsURL == "" {
		if _, err := os.Stat(filepath.Join(data, "nats")); err != nil {
			return fmt.Errorf("no stream under %s (%w); give --nats to read a running server's", filepath.Join(data, "nats"), err)
		}
	}
	conn, err := connect(natsURL, ingest.EmbeddedOptions{StoreDir: filepath.Join(data, "nats")}, "refundledger rebuild")
	if err != nil {
		return err
	}
	defer conn.Close()
	js := conn.JS
	live := filepath.Join(data, "pebble")
	bar := newProgress(errOut, "rebuild", "msgs")
	defer bulkGC(conn.ns != nil)()
	start := time.Now()
	var last projections.RebuildProgress
	rebuilt, err := projections.Rebuild(ctx, projections.RebuildConfig{
		JS: js, Stream: ingest.StreamName, Dir: live + ".rebuild", Logger: log,
		Progress: func(p projections.RebuildProgress) {
			last = p
			bar.update(p.Checkpoint, p.Target, p.Rate, p.Done)
		},
	})
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(errOut, "\ninterrupted: the partial rebuild is kept and resumes next time; the live projection is unchanged")
		return err
	}
	if err != nil {
		return err
	}
	cp, _ := rebuilt.Checkpoint()
	store, err := projections.OpenStore(live, log)
	if err != nil {
		rebuilt.Close()
		return err
	}
	if err := store.Replace(rebuilt); err != nil {
		store.Close()
		return err
	}
	if err := store.Close(); err != nil {
		return err
	}
	// A resumed rebuild folded only what came after the partial one's
	// checkpoint: the count and the rate are of this run.
	took := time.Since(start)
	folded := last.Folded
	fmt.Fprintf(out, "rebuilt %s: %s in %s (%s messages/s), checkpoint %s\n",
		live, plural(folded, "message"), took.Round(time.Millisecond), fmtCount(uint64(float64(folded)/max(took.Seconds(), 1e-3))), fmtCount(cp))
	return nil
}
