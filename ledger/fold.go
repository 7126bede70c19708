package ledger

import (
	"fmt"
	"sort"

	"refundledger/proto"
)

// folded is the result of folding a set of snapshots, before money.
type folded struct {
	auth       *Snapshot
	ops        []proto.Operation // chronological
	changed    []Anomaly
	transition []Transition
	anomalies  []Anomaly
}

// foldRefund folds a set of distinct snapshots (REFUNDS.md section 3). The
// result depends only on the set: snaps may come in any order.
func foldRefund(snaps []Snapshot) folded {
	var f folded
	if len(snaps) == 0 {
		return f
	}
	// Canonical order: ascending authority. Everything below that needs "the
	// first" of something uses this order, never arrival.
	ordered := make([]*Snapshot, len(snaps))
	for i := range snaps {
		ordered[i] = &snaps[i]
	}
	sort.Slice(ordered, func(i, j int) bool { return lessAuthority(ordered[i], ordered[j]) })
	f.auth = ordered[len(ordered)-1]

	// 1. Union by id; the version from the least authoritative snapshot that
	// lists an id is "the first". Content differences are anomalies.
	byID := map[string]proto.Operation{}
	for _, s := range ordered {
		for _, op := range s.Refund.Operations {
			prev, seen := byID[op.ID]
			if !seen {
				byID[op.ID] = op
				continue
			}
			if prev != op && !hasAnomaly(f.changed, op.ID) {
				f.changed = append(f.changed, Anomaly{
					Code:   AnomalyOperationChanged,
					Detail: fmt.Sprintf("operation %s came back with different content; the first version is kept", op.ID),
					Ref:    op.ID,
				})
			}
		}
	}
	f.ops = make([]proto.Operation, 0, len(byID))
	for _, op := range byID {
		f.ops = append(f.ops, op)
	}

	// 2. Chronological: gmtCreate, then the relative order in a snapshot
	// listing both (lists are newest first), then id.
	sort.SliceStable(f.ops, func(i, j int) bool {
		a, b := f.ops[i], f.ops[j]
		if a.At != b.At {
			return a.At < b.At
		}
		for _, s := range ordered {
			ia, ib := indexOf(s.Refund.Operations, a.ID), indexOf(s.Refund.Operations, b.ID)
			if ia >= 0 && ib >= 0 {
				return ia > ib
			}
		}
		return lessNumeric(a.ID, b.ID)
	})

	// 4-6. Transitions and their anomalies.
	state := ""
	for k, op := range f.ops {
		from := state
		if k == 0 {
			from = op.Before
			if op.Before != "" {
				f.anomalies = append(f.anomalies, Anomaly{
					Code:   AnomalyHistoryIncomplete,
					Detail: fmt.Sprintf("the oldest known operation %s starts from %q: the application was never seen", op.ID, op.Before),
					Ref:    op.ID,
				})
			}
		}
		to := f.auth.Refund.Status
		if k+1 < len(f.ops) {
			to = f.ops[k+1].Before
			if to == "" {
				to = from // next operation does not say; no change is known
			}
		}
		if from != "" && IsTerminal(from) && k > 0 {
			f.anomalies = append(f.anomalies, Anomaly{
				Code:   AnomalyActivityAfterTerminal,
				Detail: fmt.Sprintf("operation %s (%s) happened after the refund was %s", op.ID, op.Remark, from),
				Ref:    op.ID,
			})
		}
		if !IsExpectedTransition(from, to) {
			f.anomalies = append(f.anomalies, Anomaly{
				Code:   AnomalyUnexpectedTransition,
				Detail: fmt.Sprintf("operation %s moved the refund %s -> %s", op.ID, orNone(from), to),
				Ref:    op.ID,
			})
		}
		f.transition = append(f.transition, Transition{
			ID: op.ID, At: Time(op.At), Type: op.Type, Remark: op.Remark, Role: op.Role, From: from, To: to,
		})
		state = to
	}
	return f
}

// lessAuthority orders snapshots by authority (REFUNDS.md 3.3): more
// operations, then terminal over non-terminal, then later gmtModified, then
// later push time, then digest. The spec's last tie-break is "later arrival";
// the digest replaces it so that the state depends on the set of callbacks
// only (invariant 3), never on the order they came in.
func lessAuthority(a, b *Snapshot) bool {
	if na, nb := len(a.Refund.Operations), len(b.Refund.Operations); na != nb {
		return na < nb
	}
	if ta, tb := IsTerminal(a.Refund.Status), IsTerminal(b.Refund.Status); ta != tb {
		return tb
	}
	if a.Refund.ModifiedAt != b.Refund.ModifiedAt {
		return a.Refund.ModifiedAt < b.Refund.ModifiedAt
	}
	if a.PushedAt != b.PushedAt {
		return a.PushedAt < b.PushedAt
	}
	return a.Digest < b.Digest
}

func indexOf(ops []proto.Operation, id string) int {
	for i := range ops {
		if ops[i].ID == id {
			return i
		}
	}
	return -1
}

// lessNumeric compares decimal id strings as numbers (shorter is smaller).
func lessNumeric(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func hasAnomaly(list []Anomaly, ref string) bool {
	for _, a := range list {
		if a.Ref == ref {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
