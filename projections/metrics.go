package projections

import (
	"refundledger/proto"
)

// WriteMetrics writes the projection's metrics: position, lag, counts and
// rebuild progress. lastSeq is the callback stream's last sequence.
func (p *Projection) WriteMetrics(m *proto.Metrics, lastSeq uint64) {
	cp := p.Checkpoint()
	m.Gauge("refundledger_stream_last_seq", "Last sequence of the callback stream.", float64(lastSeq))
	m.Gauge("refundledger_projection_checkpoint", "Last stream sequence folded into the live projection.", float64(cp))
	lag := 0.0
	if lastSeq > cp {
		lag = float64(lastSeq - cp)
	}
	m.Gauge("refundledger_projection_lag", "Callbacks stored but not yet folded.", lag)
	c := p.Counts()
	const folded, help = "refundledger_projection_messages_total", "Callbacks folded, by kind."
	m.Counter(folded, help, c.Refunds, "kind", "refund")
	m.Counter(folded, help, c.Orders, "kind", "order")
	m.Counter(folded, help, c.Unknown, "kind", "unknown_type")
	m.Counter(folded, help, c.Quarantined, "kind", "quarantined")
	m.Counter("refundledger_projection_facts_total", "Facts written to the outbox.", c.Facts)
	rebuilding, done := 0.0, 0.0
	if r := p.Rebuilding(); r != nil {
		rebuilding, done = 1, float64(r.Checkpoint)
	}
	m.Gauge("refundledger_rebuild_in_progress", "1 while a rebuild runs beside the live projection.", rebuilding)
	m.Gauge("refundledger_rebuild_checkpoint", "Last stream sequence folded by the running rebuild.", done)
}

// WriteMetrics writes what the relay did: facts published, the callback it
// has published up to, and whether it is backfilling.
func (r *Relay) WriteMetrics(m *proto.Metrics) {
	st := r.Status()
	m.Counter("refundledger_relay_published_total", "Facts this relay published to REFUND_EVENTS.", st.Published)
	m.Gauge("refundledger_relay_position", "Callback (stream sequence) whose facts and all before are in REFUND_EVENTS, as this relay knows it.", float64(st.Position))
	backfilling := 0.0
	if st.Backfilling {
		backfilling = 1
	}
	m.Gauge("refundledger_relay_backfilling", "1 while the relay publishes what a new fold version adds to the past.", backfilling)
}
