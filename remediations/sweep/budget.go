package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/config"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/incident"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Budget bounds the buckets one run fixes (BUCKETGUARD_SWEEP_FIX_BUDGET):
// a first sweep after a deploy, a wrong approval tag key or a judge defect
// never rewrites a whole account in one run. Each bucket is first looked at
// in notify mode; the most severe that need a fix are kept as candidates,
// at most Limit, and fixed when the run ends; every other bucket that needs
// one is told as reported when it falls out of the candidates, and the
// operations topic is told that the budget held. Event-driven fixes are
// never budgeted: an attacker must not be able to switch protection off by
// spending a budget. The budget travels from part to part in the event.
type Budget struct {
	Limit      int         `json:"limit"`
	Candidates []Candidate `json:"candidates,omitempty"`
	// Over counts the buckets that needed a fix beyond the budget;
	// OverBuckets names the first ones.
	Over        int      `json:"over"`
	OverBuckets []Bucket `json:"over_buckets,omitempty"`
	// Seq numbers the buckets that needed a fix, in the order they were
	// seen: of two equally severe, the first keeps its place.
	Seq int `json:"seq"`
}

// Candidate is a bucket to fix when the run ends.
type Candidate struct {
	Bucket   Bucket        `json:"bucket"`
	Severity plan.Severity `json:"severity"`
	Seq      int           `json:"seq"`
	// Status is what its look was counted as in the tally.
	Status contract.Status `json:"status"`
}

// budgeted reports whether this run's fixes are budgeted.
func (h *Handler) budgeted() bool { return h.Incidents.Engine.Config.Mode == config.Enforce }

// newBudget starts a run's budget.
func (h *Handler) newBudget() *Budget {
	if !h.budgeted() {
		return nil
	}
	return &Budget{Limit: h.Incidents.Engine.Config.SweepFixBudget}
}

// needsFix reports whether a look found something an enforce run would
// write.
func needsFix(res remediations.Result) bool {
	return slices.ContainsFunc(res.Actions, func(a remediations.ActionResult) bool { return a.Outcome == remediations.Planned })
}

// budgetLedger is a budget in a part: its buckets are looked at at once.
type budgetLedger struct {
	mu sync.Mutex
	b  *Budget
}

// offer weighs a bucket that needs a fix against the candidates: it joins
// them (while there is room, or in place of a less severe one), or not. The
// bucket that does not make it (the one offered, or the one it replaces) is
// returned, to be told as reported.
func (l *budgetLedger) offer(b Bucket, res remediations.Result) (out *Bucket) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Seq++
	c := Candidate{Bucket: b, Severity: res.Severity, Seq: l.b.Seq, Status: res.Status}
	if len(l.b.Candidates) < l.b.Limit {
		l.b.Candidates = append(l.b.Candidates, c)
		return nil
	}
	// The weakest candidate: least severe, then seen last.
	weakest := -1
	for i, k := range l.b.Candidates {
		if weakest < 0 || l.weaker(k, l.b.Candidates[weakest]) {
			weakest = i
		}
	}
	l.b.Over++
	if weakest < 0 || !c.Severity.Worse(l.b.Candidates[weakest].Severity) {
		l.name(b)
		return &b
	}
	evicted := l.b.Candidates[weakest].Bucket
	l.b.Candidates[weakest] = c
	l.name(evicted)
	return &evicted
}

func (l *budgetLedger) weaker(a, b Candidate) bool {
	if a.Severity != b.Severity {
		return b.Severity.Worse(a.Severity)
	}
	return a.Seq > b.Seq
}

func (l *budgetLedger) name(b Bucket) {
	if len(l.b.OverBuckets) < MaxFailures {
		l.b.OverBuckets = append(l.b.OverBuckets, b)
	}
}

// look is one bucket of a budgeted part: looked at in notify mode, and
// kept as a candidate, or told as reported when it does not make it. A
// bucket that needs no fix is told as any other run tells it.
func (h *Handler) look(ctx context.Context, l *budgetLedger, account, run string, b Bucket, log *slog.Logger) (remediations.Result, error) {
	t := posture.Target{Account: account, Region: b.Region, Bucket: b.Name}
	res, err := h.Incidents.Engine.Look(ctx, t, log)
	switch {
	case err != nil:
		return res, err
	case len(res.Findings) == 0:
		// Clean: nothing to tell, but its state is reported as any run
		// reports it (Security Hub's findings pass).
		if r := h.Incidents.Reporter; r != nil {
			res.Run, res.Mode = run, h.Incidents.Engine.Config.Mode
			r.Report(ctx, res, log)
		}
		return res, nil
	case !needsFix(res):
		out, _ := h.Incidents.Run(ctx, h.incident(account, run, t), log)
		return out.Result, out.EvalErr
	}
	if over := l.offer(b, res); over != nil {
		h.reportOver(ctx, account, run, *over, l.b.Limit, log)
	}
	return res, nil
}

// reportOver tells a bucket beyond the budget as reported: what is wrong,
// and that the budget kept it from being fixed by this run.
func (h *Handler) reportOver(ctx context.Context, account, run string, b Bucket, limit int, log *slog.Logger) {
	inc := h.incident(account, run, posture.Target{Account: account, Region: b.Region, Bucket: b.Name})
	inc.Mode = config.Notify
	inc.Notes = []string{fmt.Sprintf("the sweep fixes at most %d buckets a run (%s), the most severe first: this bucket was reported, not fixed; "+
		"the next change to it, or a later run, fixes it", limit, config.EnvSweepFixBudget)}
	if _, err := h.Incidents.Run(ctx, inc, log.With(contract.FieldBucket, b.Name)); err != nil {
		log.Warn("budget", contract.FieldBucket, b.Name, contract.FieldErr, err)
	}
}

// spend fixes the run's candidates, as many at once as the sweep's
// concurrency, and counts each in the tally in place of its look.
func (h *Handler) spend(ctx context.Context, account string, cont *Continuation, log *slog.Logger) {
	cands := cont.Budget.Candidates
	results := make([]incident.Report, len(cands))
	sem := make(chan struct{}, max(1, h.Concurrency))
	var wg sync.WaitGroup
	for i, c := range cands {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			t := posture.Target{Account: account, Region: c.Bucket.Region, Bucket: c.Bucket.Name}
			results[i], _ = h.Incidents.Run(ctx, h.incident(account, cont.Run, t), log.With(contract.FieldBucket, c.Bucket.Name))
		}()
	}
	wg.Wait()
	for i, c := range cands {
		cont.Tally.recount(c.Bucket, c.Status, results[i].Result, results[i].EvalErr)
		if results[i].Receipt.Delivery == contract.Undelivered {
			cont.Tally.Undelivered++
		}
	}
	log.Info("budget", "fixed", len(cands), "over", cont.Budget.Over, "limit", cont.Budget.Limit)
}

// BudgetSchema names the JSON document of a budget notice.
const BudgetSchema = "bucketguard.sweep-budget/v1"

// budgetHeld tells the operations topic that the run's budget held.
func (h *Handler) budgetHeld(ctx context.Context, account string, cont *Continuation, log *slog.Logger) {
	b := cont.Budget
	if b == nil || b.Over == 0 {
		return
	}
	d := struct {
		Schema      string   `json:"schema"`
		Run         string   `json:"run"`
		Account     string   `json:"account"`
		Region      string   `json:"region"`
		Limit       int      `json:"limit"`
		Fixed       int      `json:"fixed"`
		Over        int      `json:"over"`
		OverBuckets []Bucket `json:"over_buckets"`
	}{BudgetSchema, cont.Run, account, h.Region, b.Limit, len(b.Candidates), b.Over, b.OverBuckets}
	js, _ := json.Marshal(d) // plain data: cannot fail
	var t strings.Builder
	fmt.Fprintf(&t, "The sweep of account %s in %s (run %s) found %d buckets to fix; its budget is %d a run (%s).\n",
		account, h.Region, cont.Run, len(b.Candidates)+b.Over, b.Limit, config.EnvSweepFixBudget)
	fmt.Fprintf(&t, "It fixed the %d most severe, and reported the other %d to their owners:\n", len(b.Candidates), b.Over)
	for _, o := range b.OverBuckets {
		fmt.Fprintf(&t, "  %s (%s)\n", o.Name, o.Region)
	}
	if b.Over > len(b.OverBuckets) {
		fmt.Fprintf(&t, "  ... and %d more\n", b.Over-len(b.OverBuckets))
	}
	t.WriteString("If this is expected (a first sweep), raise the budget or let later runs catch up; if not, check the approval tag key and the judge before raising it.\n")
	e := alert.Envelope{Kind: contract.KindBudget, Ops: true, Key: "budget/" + cont.Run + "/" + account + "/" + h.Region, JSON: js, Text: t.String(),
		Subject:    alert.Subject(fmt.Sprintf("bucketguard: sweep fix budget held in %s/%s: %d fixed, %d reported", account, h.Region, len(b.Candidates), b.Over)),
		Attributes: map[string]string{"kind": contract.KindBudget, "account": account, "region": h.Region}}
	if _, err := h.Incidents.Alerts.Send(ctx, e, log); err != nil {
		log.Warn("budget notice", contract.FieldErr, err)
	}
}
