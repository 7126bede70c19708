package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"refundledger/ingest"
	"refundledger/projections"
)

func projectCmd() *cobra.Command {
	var data, natsURL, adminListen string
	var replicas int
	cmd := &cobra.Command{
		Use:   "project",
		Short: "Run only the projector (and optionally the admin API) against a NATS server",
		Long: `Fold the callback stream of a NATS server or cluster into DATA/pebble and keep
folding as callbacks arrive. This is the projector of serve on its own, for
deployments where NATS runs apart; it can be stopped (even killed) at any
moment and resumes after its last committed batch.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			serveGC()
			return project(ctx, data, natsURL, adminListen, replicas, log, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&data, "data", "./data", "data directory of the projection (DATA/pebble) and its lock")
	cmd.Flags().StringVar(&natsURL, "nats", nats.DefaultURL, "NATS server holding the "+ingest.StreamName+" stream")
	cmd.Flags().IntVar(&replicas, "replicas", 1, "replicas of the events stream when this node creates it (3 in a cluster)")
	cmd.Flags().StringVar(&adminListen, "admin-listen", "", "serve the admin API (queries, status) on this address; empty: none")
	return cmd
}

func project(ctx context.Context, data, natsURL, adminListen string, replicas int, log *slog.Logger, out io.Writer) error {
	if err := os.MkdirAll(data, 0o755); err != nil {
		return err
	}
	unlock, err := lockDataDir(data)
	if err != nil {
		return err
	}
	defer unlock()
	conn, err := connect(natsURL, ingest.EmbeddedOptions{}, "refundledger project")
	if err != nil {
		return natsUnreachable(err, natsURL, "is the NATS server running? --nats says where")
	}
	defer conn.Close()
	js := conn.JS
	stream, err := conn.callbacks(ctx)
	if err != nil {
		return err
	}
	proj, err := projections.OpenProjection(projections.ProjectionConfig{JS: js, Stream: ingest.StreamName, Dir: filepath.Join(data, "pebble"), Logger: log})
	if err != nil {
		return err
	}
	defer proj.Close()
	relay := &projections.Relay{JS: js, Store: proj.Store, Logger: log}
	var adminAddr net.Addr
	if adminListen != "" {
		api := &projections.API{Projection: proj, Logger: log, LastSeq: streamLastSeq(stream), Relay: relay,
			AuditEvents: eventsAuditor(js, proj), Audit: auditor(ctx, js, proj, filepath.Join(data, "pebble.audit"), log)}
		ln, err := net.Listen("tcp", adminListen)
		if err != nil {
			return fmt.Errorf("admin listener: %w", err)
		}
		srv := &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		adminAddr = ln.Addr()
	}
	if _, err := ensure(ctx, log, projections.EventsStream, func(ctx context.Context) (jetstream.Stream, error) {
		return projections.EnsureEventsStream(ctx, js, replicas)
	}); err != nil {
		return err
	}
	// The banner once all is ready, in serve's shape: the header line,
	// then where to reach it.
	fmt.Fprintf(out, "refundledger projecting %s into %s\n", ingest.StreamName, filepath.Join(data, "pebble"))
	if adminAddr != nil {
		fmt.Fprintf(out, "  admin      http://%s/v1/status\n", adminAddr)
	}
	fmt.Fprintf(out, "  nats       %s\n", natsURL)
	bg := runBackground(ctx, proj.Run, relay.Run)
	select {
	case <-ctx.Done():
	case err := <-bg.failed:
		return errors.Join(err, bg.stop())
	}
	return bg.stop()
}

// streamLastSeq reads the stream's last sequence, for /v1/status.
func streamLastSeq(stream jetstream.Stream) func(context.Context) (uint64, error) {
	return func(ctx context.Context) (uint64, error) {
		info, err := stream.Info(ctx)
		if err != nil {
			return 0, err
		}
		return info.State.LastSeq, nil
	}
}
