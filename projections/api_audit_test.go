package projections_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"refundledger/projections"
)

// GET /v1/status shows how far a running GET /v1/audit has got (what the
// CLI draws while it waits), and nothing once it is done; a second audit
// meanwhile is refused.
func TestStatusShowsTheRunningAudit(t *testing.T) {
	e := mustEnv(t)
	for i := range 30 {
		e.publish(t, variant(t, i, "refundsuccess"))
	}
	p := e.runProjection(t)
	var seen []projections.AuditProgress
	release := make(chan struct{})
	var srvURL string
	api := &projections.API{Projection: p, Logger: quiet(),
		LastSeq: func(context.Context) (uint64, error) { return e.lastSeq(t), nil },
		Audit: func(ctx context.Context, progress func(folded, total uint64)) (projections.AuditReport, error) {
			// The real audit, with a look at the status at every report of
			// its progress, and a pause before it answers.
			rep, err := projections.Audit(ctx, p.Store(), projections.AuditConfig{JS: e.js, Stream: streamName,
				Scratch: filepath.Join(t.TempDir(), "audit"), Logger: quiet(),
				Progress: func(folded, total uint64) {
					progress(folded, total)
					var st projections.Status
					if code := getJSON(t, srvURL+"/v1/status", &st); code != http.StatusOK || st.Audit == nil {
						t.Errorf("status during the audit: %d, audit %+v", code, st.Audit)
						return
					}
					seen = append(seen, *st.Audit)
				}})
			<-release
			return rep, err
		}}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	srvURL = srv.URL

	done := make(chan int, 1)
	var rep projections.AuditReport
	go func() { done <- getJSON(t, srv.URL+"/v1/audit", &rep) }()
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		var st projections.Status
		getJSON(t, srv.URL+"/v1/status", &st)
		if st.Audit != nil && st.Audit.Total > 0 && st.Audit.Folded == st.Audit.Total {
			break
		}
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the audit never showed its fold done: %+v", st.Audit)
		}
	}
	var body map[string]any
	if code := getJSON(t, srv.URL+"/v1/audit", &body); code != http.StatusConflict {
		t.Fatalf("a second audit meanwhile: %d %v, want 409", code, body)
	}
	close(release)
	if code := <-done; code != http.StatusOK || !rep.OK {
		t.Fatalf("audit: %d %+v", code, rep)
	}
	if len(seen) == 0 || seen[len(seen)-1].Total != p.Checkpoint() || seen[len(seen)-1].StartedAt.IsZero() {
		t.Fatalf("status during the audit showed %+v, want its fold up to the checkpoint %d", seen, p.Checkpoint())
	}
	var st projections.Status
	if getJSON(t, srv.URL+"/v1/status", &st); st.Audit != nil {
		t.Fatalf("status after the audit still shows it: %+v", st.Audit)
	}
}
