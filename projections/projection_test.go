package projections_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"refundledger/projections"
)

// TestProjectionStoppedAsItsRebuildEndsClosesTheRebuiltStore: a shutdown
// that arrives just as a rebuild catches up (Rebuild has returned its store)
// must not leave that store open: it would keep its directory locked and
// never flush what it holds.
func TestProjectionStoppedAsItsRebuildEndsClosesTheRebuiltStore(t *testing.T) {
	e := mustEnv(t)
	for i := range 25 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	old := mustOpenStore(t, e.dir)
	e.project(t, old)
	if err := old.SetFoldVersion("0999"); err != nil {
		t.Fatal(err)
	}
	old.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	js := cancelOnInfo{JetStream: e.js, cancel: cancel, at: 2, infos: new(atomic.Int32)}
	p, err := projections.OpenProjection(projections.ProjectionConfig{JS: js, Stream: streamName, Dir: e.dir, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := projections.OpenStore(e.dir+".rebuild", quiet())
	if err != nil {
		t.Fatalf("Run returned with the rebuilt store still open: %v", err)
	}
	s.Close()
}

// cancelOnInfo is a JetStream whose streams cancel a context on their
// at-th Info: Rebuild looks at the stream once to learn its target and
// again to see it caught up, so at 2 the shutdown comes as it finishes.
type cancelOnInfo struct {
	jetstream.JetStream
	cancel context.CancelFunc
	at     int32
	infos  *atomic.Int32
}

func (j cancelOnInfo) Stream(ctx context.Context, name string) (jetstream.Stream, error) {
	s, err := j.JetStream.Stream(ctx, name)
	if err != nil {
		return nil, err
	}
	return cancelOnInfoStream{s, j}, nil
}

type cancelOnInfoStream struct {
	jetstream.Stream
	j cancelOnInfo
}

func (s cancelOnInfoStream) Info(ctx context.Context, opts ...jetstream.StreamInfoOpt) (*jetstream.StreamInfo, error) {
	info, err := s.Stream.Info(ctx, opts...)
	if err == nil && s.j.infos.Add(1) == s.j.at {
		s.j.cancel()
	}
	return info, err
}
