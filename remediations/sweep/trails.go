package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/plan"
	"github.com/bucketguard/bucketguard/remediations/trail"
)

// TrailSchema names the JSON document of a trail notice.
const TrailSchema = "bucketguard.trail/v1"

// checkTrails is the home sweep's check that a trail feeds the rule: it
// reads the account's trails and tells the operations topic, as critical,
// of every region with a stack where no logging trail delivers management
// write events (there bucketguard sees no S3 change, and only the sweep
// remains). A failure to read is counted and named in the summary.
func (h *Handler) checkTrails(ctx context.Context, account string, cont *Continuation, t *Tally, log *slog.Logger) {
	regions := h.StackRegions
	if len(regions) == 0 {
		regions = []string{h.Region}
	}
	trails, err := trail.Read(ctx, h.Trails, regions)
	if err != nil {
		t.Errors++
		t.name(Bucket{Name: "trails", Region: h.Region}, err.Error())
		log.Warn("trails", contract.FieldErr, err)
		return
	}
	gaps := trail.Judge(trails, regions)
	log.Info("trails", "trails", len(trails), "uncovered_regions", len(gaps))
	if len(gaps) == 0 {
		return
	}
	var names []string
	for _, g := range gaps {
		names = append(names, g.Region)
	}
	d := struct {
		Schema   string        `json:"schema"`
		Run      string        `json:"run"`
		Account  string        `json:"account"`
		Severity plan.Severity `json:"severity"`
		Gaps     []trail.Gap   `json:"gaps"`
		Trails   []trail.Trail `json:"trails"`
	}{TrailSchema, cont.Run, account, plan.Critical, gaps, trails}
	js, _ := json.Marshal(d) // plain data: cannot fail
	var b strings.Builder
	fmt.Fprintf(&b, "The sweep of account %s (run %s) found no CloudTrail trail that is logging and delivers management write events in %s.\n",
		account, cont.Run, strings.Join(names, ", "))
	b.WriteString("There bucketguard's rule sees no S3 change: nothing is fixed until the next sweep. Why each trail falls short:\n")
	b.WriteString(trail.Describe(gaps))
	b.WriteString("Start the trail (StartLogging), or make one log write management events in those regions; see who stopped it in CloudTrail's event history.\n")
	e := alert.Envelope{Kind: contract.KindTrail, Ops: true, Key: "trail/" + cont.Run + "/" + account, JSON: js, Text: b.String(),
		Subject:    alert.Subject(fmt.Sprintf("bucketguard CRITICAL: no trail feeds bucketguard in %s/%s", account, strings.Join(names, ","))),
		Attributes: map[string]string{"kind": contract.KindTrail, "account": account, "region": h.Region, "severity": string(plan.Critical)}}
	if _, err := h.Incidents.Alerts.Send(ctx, e, log); err != nil {
		log.Warn("trail notice", contract.FieldErr, err)
	}
}
