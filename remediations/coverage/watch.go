package coverage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	cftypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/bucketguard/bucketguard/events"
	"github.com/bucketguard/bucketguard/remediations/alert"
	"github.com/bucketguard/bucketguard/remediations/contract"
)

// The admin stack's scheduled check reads its settings from these.
const (
	EnvStackSet       = "BUCKETGUARD_STACKSET"
	EnvRegions        = "BUCKETGUARD_COVERAGE_REGIONS"
	EnvHeartbeatTable = "BUCKETGUARD_HEARTBEAT_TABLE"
	EnvCallAs         = "BUCKETGUARD_CALL_AS"
	EnvOpsTopicARN    = "BUCKETGUARD_OPS_TOPIC_ARN"
)

// WatchConfig is the scheduled check's configuration, parsed once.
type WatchConfig struct {
	StackSet       string
	Regions        []string
	HeartbeatTable string
	CallAs         cftypes.CallAs
	OpsTopicARN    string
}

// WatchConfigFromEnv parses the settings; every bad one is named.
func WatchConfigFromEnv(lookup func(string) (string, bool)) (WatchConfig, error) {
	var c WatchConfig
	var errs []error
	get := func(k string) string { v, _ := lookup(k); return strings.TrimSpace(v) }
	if c.StackSet = get(EnvStackSet); c.StackSet == "" {
		errs = append(errs, fmt.Errorf("%s: missing (the StackSet's name)", EnvStackSet))
	}
	for _, r := range strings.Split(get(EnvRegions), ",") {
		if r = strings.TrimSpace(r); !events.ValidRegion(r) {
			errs = append(errs, fmt.Errorf("%s: %q is not a comma-separated list of regions", EnvRegions, get(EnvRegions)))
			break
		}
		c.Regions = append(c.Regions, r)
	}
	c.HeartbeatTable = get(EnvHeartbeatTable)
	switch v := get(EnvCallAs); v {
	case "", string(cftypes.CallAsDelegatedAdmin):
		c.CallAs = cftypes.CallAsDelegatedAdmin
	case string(cftypes.CallAsSelf):
		c.CallAs = cftypes.CallAsSelf
	default:
		errs = append(errs, fmt.Errorf("%s: %q is not DELEGATED_ADMIN or SELF", EnvCallAs, v))
	}
	if c.OpsTopicARN = get(EnvOpsTopicARN); !strings.HasPrefix(c.OpsTopicARN, "arn:") {
		errs = append(errs, fmt.Errorf("%s: %q is not an SNS topic ARN", EnvOpsTopicARN, c.OpsTopicARN))
	}
	return c, errors.Join(errs...)
}

// MaxNamed bounds the uncovered account-regions a notice names; the
// count stays exact.
const MaxNamed = 50

// Watch is the admin stack's scheduled coverage check: every account and
// region of the organization, and the operations topic told of each that
// is not covered (no stack, a stack not current, or no heartbeat within a
// day and a bit), with a log line the stack's Uncovered metric and alarm
// count.
type Watch struct {
	Sources Sources
	Config  WatchConfig
	Alerts  *alert.Sender
	Log     *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// Handle runs one check (a scheduled event).
func (w *Watch) Handle(ctx context.Context, _ json.RawMessage) error {
	now := time.Now()
	if w.Now != nil {
		now = w.Now()
	}
	var named []Row
	sum, err := Run(ctx, w.Sources, Options{StackSet: w.Config.StackSet, CallAs: w.Config.CallAs, Regions: w.Config.Regions,
		HeartbeatTable: w.Config.HeartbeatTable, MaxAge: DefaultMaxAge, Now: now}, func(r Row) error {
		if r.Uncovered() && len(named) < MaxNamed {
			named = append(named, r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("coverage: %w", err)
	}
	w.Log.Info(contract.MsgCoverage, contract.FieldUncovered, sum.Uncovered, "covered", sum.Covered, "rows", sum.Rows, "accounts", sum.Accounts)
	if sum.Uncovered == 0 {
		return nil
	}
	js, _ := json.Marshal(struct {
		Schema  string  `json:"schema"`
		Summary Summary `json:"summary"`
		Rows    []Row   `json:"uncovered"`
	}{"bucketguard.coverage/v1", sum, named})
	var b strings.Builder
	fmt.Fprintf(&b, "bucketguard covers %d of %d account-regions of the organization; %d are not covered:\n\n", sum.Covered, sum.Rows, sum.Uncovered)
	for _, r := range named {
		fmt.Fprintf(&b, "  %s %s: %s\n", r.Account, r.Region, r.Reason)
	}
	if sum.Uncovered > len(named) {
		fmt.Fprintf(&b, "  ... and %d more (bucketguard coverage lists them all)\n", sum.Uncovered-len(named))
	}
	e := alert.Envelope{Kind: contract.KindCoverage, Ops: true, JSON: js, Text: b.String(),
		Subject:    alert.Subject(fmt.Sprintf("bucketguard: %d account-regions not covered", sum.Uncovered)),
		Attributes: map[string]string{"kind": contract.KindCoverage}}
	_, err = w.Alerts.Send(ctx, e, w.Log)
	return err
}
