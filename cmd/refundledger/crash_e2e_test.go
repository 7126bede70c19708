package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"refundledger/ingest"
	"refundledger/ledger/simulate"
	"refundledger/projections"
	"refundledger/proto"
)

// TestProjectorSurvivesSIGKILL kills `refundledger project` at random moments
// while callbacks stream in, many times, then checks that the projection
// equals a clean fold of the stream (audit), and that every fact is in the
// outbox and in REFUND_EVENTS exactly once.
func TestProjectorSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary many times")
	}
	ns := startOutsideNATS(t)
	js := mustJetStream(t, ns.ClientURL())
	ctx := context.Background()
	stream, err := ingest.EnsureStream(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}

	// The stream fills while the projector is being killed.
	calls := simulate.Generate(simulate.Options{Seed: 7, Orders: 400, DupRate: 0.05, RetryRate: 0.05, Shuffle: true})
	published := make(chan error, 1)
	go func() {
		for _, c := range calls {
			r, err := proto.DecodeRoute(c.Body)
			if err != nil {
				published <- err
				return
			}
			m := nats.NewMsg(ingest.Subject(r))
			m.Data = c.Body
			m.Header.Set(jetstream.MsgIDHeader, ingest.MsgID(r))
			m.Header.Set(proto.HeaderReceivedAt, time.UnixMilli(c.DeliverAt).UTC().Format(time.RFC3339Nano))
			if _, err := js.PublishMsg(ctx, m); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()

	data := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	for kills < 15 {
		cmd := exec.Command(mustBuild(t), "project", "--data", data, "--nats", ns.ClientURL())
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		kills++
	}
	if err := <-published; err != nil {
		t.Fatal(err)
	}

	// A last run to the end of the stream.
	cmd := exec.Command(mustBuild(t), "project", "--data", data, "--nats", ns.ClientURL(), "--admin-listen", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	admin := ""
	sc := bufio.NewScanner(stdout)
	// Stop at the admin line: a scan for one more line would wait for ever
	// if it were the banner's last.
	for admin == "" && sc.Scan() {
		if m := regexp.MustCompile(`^\s+admin\s+(http://[^/]+)/`).FindStringSubmatch(sc.Text()); m != nil {
			admin = m[1]
		}
	}
	if admin == "" {
		t.Fatalf("project printed no admin address; stderr:\n%s", &stderr)
	}
	go io.Copy(io.Discard, stdout)
	s := &service{admin: admin}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.waitCaughtUp(t, info.State.LastSeq)
	// The relay catches up with the outbox: as many events as facts (the
	// check below compares with the outbox itself).
	_, b := s.get(t, "/v1/status")
	var st struct{ Counts struct{ Facts uint64 } }
	if err := json.Unmarshal(b, &st); err != nil || st.Counts.Facts == 0 {
		t.Fatalf("status %s: %v", b, err)
	}
	eventCount(t, js, st.Counts.Facts)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("project: %v\n%s", err, stderr.String())
	}

	store, err := projections.OpenStore(filepath.Join(data, "pebble"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rep, err := projections.Audit(ctx, store, projections.AuditConfig{JS: js, Stream: ingest.StreamName, Scratch: filepath.Join(t.TempDir(), "audit")})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Checkpoint != info.State.LastSeq {
		t.Fatalf("after %d kills the projection differs from a clean fold: %+v", kills, rep)
	}
	outbox, err := store.Outbox(0, 10_000_000)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range outbox {
		if seen[e.Fact.ID] {
			t.Fatalf("fact %s twice in the outbox", e.Fact.ID)
		}
		seen[e.Fact.ID] = true
	}
	events, err := js.Stream(ctx, projections.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	einfo, _ := events.Info(ctx)
	if einfo.State.Msgs != uint64(len(outbox)) {
		t.Fatalf("REFUND_EVENTS holds %d events for %d facts", einfo.State.Msgs, len(outbox))
	}
	t.Logf("%d callbacks, %d kills, %d keys audited, %d facts published once", len(calls), kills, rep.Keys, len(outbox))
}
