package simulate_test

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"refundledger/ledger/simulate"
	"refundledger/proto"
)

var opts = simulate.Options{Seed: 9, Orders: 150, RetryRate: 0.3, DupRate: 0.2, Shuffle: true}

func TestGenerate(t *testing.T) {
	cbs := simulate.Generate(opts)
	t.Run("Reproducible", func(t *testing.T) {
		again := simulate.Generate(opts)
		if len(again) != len(cbs) {
			t.Fatalf("%d then %d callbacks", len(cbs), len(again))
		}
		for i := range cbs {
			if !bytes.Equal(cbs[i].Body, again[i].Body) {
				t.Fatalf("callback %d differs", i)
			}
		}
	})
	t.Run("EveryCallbackDecodes", func(t *testing.T) {
		seen := map[string]bool{}
		for _, c := range cbs {
			d, err := proto.DecodeCallback(c.Body)
			if err != nil || d.BodyErr != nil {
				t.Fatalf("%s: %v %v", c.Body, err, d.BodyErr)
			}
			if (d.Refund != nil) != (c.RefundID != "") || d.Type != c.Type || int(d.RetryCount) != c.RetryCount {
				t.Fatalf("decoded %+v from %+v", d, c)
			}
			seen[c.MessageID] = true
		}
		var messages int
		for i := 0; i < opts.Orders; i++ {
			messages += len(simulate.NewScenario(opts, i).Messages)
		}
		if len(seen) != messages {
			t.Fatalf("%d distinct messages delivered, %d sent", len(seen), messages)
		}
	})
	t.Run("EveryLifecycle", func(t *testing.T) {
		refunds, _ := simulate.Truth(opts)
		got := map[string]bool{}
		for _, r := range refunds {
			got[r.Lifecycle] = true
		}
		for _, lc := range simulate.Lifecycles() {
			if !got[lc] {
				t.Errorf("lifecycle %s never drawn", lc)
			}
		}
	})
	t.Run("WriteJSONL", func(t *testing.T) {
		var buf bytes.Buffer
		if err := simulate.WriteJSONL(&buf, opts); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(&buf)
		sc.Buffer(nil, 1<<20)
		n := 0
		for ; sc.Scan(); n++ {
			if !bytes.Equal(sc.Bytes(), cbs[n].Body) {
				t.Fatalf("line %d differs", n)
			}
		}
		if n != len(cbs) {
			t.Fatalf("%d lines, %d callbacks", n, len(cbs))
		}
	})
}

func TestPost(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodPost {
				w.WriteHeader(http.StatusMethodNotAllowed)
			}
		}))
		defer srv.Close()
		small := simulate.Options{Seed: 1, Orders: 3}
		st, err := simulate.Post(context.Background(), srv.URL, small, 2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := int64(len(simulate.Generate(small))); st.OK != want || st.Sent != want || st.Errors != 0 {
			t.Fatalf("stats %+v, want %d OK", st, want)
		}
	})
	// progress says how many requests were done and how many of them were
	// not answered 200, so that a bar can say so while it runs.
	t.Run("ProgressCountsWhatWasNotAnswered200", func(t *testing.T) {
		var n atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1)%3 == 0 {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}))
		defer srv.Close()
		small := simulate.Options{Seed: 1, Orders: 3}
		var mu sync.Mutex
		var lastDone, lastFailed int64
		st, err := simulate.Post(context.Background(), srv.URL, small, 1, func(done, failed int64) {
			mu.Lock()
			defer mu.Unlock()
			lastDone, lastFailed = max(lastDone, done), max(lastFailed, failed)
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Rejected == 0 || lastFailed != st.Rejected+st.Errors || lastDone != st.Sent+st.Errors {
			t.Fatalf("progress ended at %d done, %d failed; stats %+v", lastDone, lastFailed, st)
		}
	})
}
