package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bucketguard/bucketguard/remediations"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/plan"
)

// Counter counts fixes in a window (ledger.Store): the new count.
type Counter interface {
	Count(ctx context.Context, key string, expires time.Time) (int, error)
}

// Fights notices a fight: the same setting of one bucket fixed again and
// again within a window (a pipeline or a person re-applying the same open
// setting). bucketguard keeps fixing (security wins), and tells the
// operations topic once per window, naming the actor and the setting.
type Fights struct {
	Counter   Counter
	Window    time.Duration
	Threshold int
}

// FightSchema names the JSON document of a fight notice.
const FightSchema = "bucketguard.fight/v1"

// fight is what the operations topic is told.
type fight struct {
	Schema   string   `json:"schema"`
	Account  string   `json:"account"`
	Region   string   `json:"region"`
	Bucket   string   `json:"bucket"`
	Actions  []string `json:"actions"`
	Settings []string `json:"settings"`
	Fixes    int      `json:"fixes"`
	Window   string   `json:"window"`
	Actor    string   `json:"actor"`
	Event    string   `json:"event,omitempty"`
}

// notice counts the bucket's fix, beside the alert, and tells the
// operations topic when the count reaches the threshold (once per window:
// the count passes it once), naming the settings this attempt fixed. Windows are fixed (the clock divided by the
// window), so a fight across a boundary is counted in two.
func (a *attempt) notice(ctx context.Context) (wait func()) {
	f := a.p.Fights
	if f == nil || f.Counter == nil || f.Window <= 0 || a.res.Target.Bucket == "" || !a.res.Wrote() {
		return func() {}
	}
	res, now := a.res, a.p.now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		window := now.UnixNano() / int64(f.Window)
		expires := time.Unix(0, (window+2)*int64(f.Window))
		var fixed []plan.Action
		for _, act := range res.Actions {
			if act.Outcome == remediations.Verified || act.Outcome == remediations.Unverified {
				fixed = append(fixed, act.Action)
			}
		}
		// One count per attempt that fixed the bucket: the bucket was put
		// back open again, whichever setting.
		key := fmt.Sprintf("fight/%s/%s/%d", res.Target.Account, res.Target.Bucket, window)
		n, err := f.Counter.Count(ctx, key, expires)
		switch {
		case err != nil:
			a.log.Warn("fight count", contract.FieldErr, err) // a fight missed beats a fix delayed
		case n == f.Threshold:
			a.tellFight(ctx, res, fixed, n, key)
		}
	}()
	return func() { <-done }
}

// tellFight sends one fight notice to the operations topic, naming the
// settings the attempt that reached the threshold fixed.
func (a *attempt) tellFight(ctx context.Context, res remediations.Result, fought []plan.Action, n int, key string) {
	actor, event := "bucketguard's sweep", ""
	if c := res.Trigger; c != nil {
		actor, event = c.Actor.String(), fmt.Sprintf("%s (%s)", c.Name, c.EventID)
	}
	var settings, names []string
	for _, act := range fought {
		if !slices.Contains(settings, act.Setting) {
			settings = append(settings, act.Setting)
		}
		names = append(names, string(act.Name))
	}
	d := fight{Schema: FightSchema, Account: res.Target.Account, Region: res.Target.Region, Bucket: res.Target.Bucket,
		Actions: names, Settings: settings, Fixes: n, Window: a.p.Fights.Window.String(), Actor: actor, Event: event}
	js, _ := json.Marshal(d) // plain data: cannot fail
	var b strings.Builder
	fmt.Fprintf(&b, "bucketguard has fixed the %s of bucket %s (account %s, %s) %d times within %s.\n\n",
		strings.Join(settings, " and "), d.Bucket, d.Account, d.Region, n, d.Window)
	fmt.Fprintf(&b, "The last change was made by %s", actor)
	if event != "" {
		fmt.Fprintf(&b, " with %s", event)
	}
	fmt.Fprintf(&b, ".\nbucketguard keeps fixing it:\n")
	for _, act := range fought {
		fmt.Fprintf(&b, "  %s: %s\n", act.Name, act.Why)
	}
	b.WriteString("Someone, or a pipeline, keeps putting it back: find the source and change it there.\n")
	subject := fmt.Sprintf("bucketguard: fight on %s: %s fixed %d times in %s", d.Bucket, strings.Join(settings, ", "), n, d.Window)
	e := alert.Envelope{Kind: contract.KindFight, Subject: alert.Subject(subject), Text: b.String(), JSON: js, Key: key, Ops: true,
		Attributes: map[string]string{"kind": contract.KindFight, "bucket": d.Bucket, "account": d.Account}}
	a.log.Warn(contract.MsgFight, contract.FieldBucket, d.Bucket, "settings", settings, "fixes", n, "actor", actor)
	if _, err := a.p.Alerts.Send(ctx, e, a.log); err != nil {
		a.log.Warn("fight notice", contract.FieldErr, err) // the line above and its metric keep it
	}
}
