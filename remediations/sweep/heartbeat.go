package sweep

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/bucketguard/bucketguard/remediations/contract"
	"github.com/bucketguard/bucketguard/remediations/outcome"
)

// Heartbeat is the central bus a run ends on: one event per run, with its
// region and outcomes (contract.Heartbeat). EventBridge sets the event's
// account, the sender's.
type Heartbeat struct {
	// Client is the central bus's client, the outcomes' own.
	Client outcome.Client
	// Bus is the bus's ARN, in another account and maybe another region:
	// the client must call the bus's region (contract.BusRegion).
	Bus string
}

// beat puts the run's heartbeat on the bus. A heartbeat that does not go
// is a log line: the run is done, and coverage will show the gap.
func (h *Handler) beat(ctx context.Context, s Summary, log *slog.Logger) {
	if h.Heartbeat == nil || h.Heartbeat.Bus == "" {
		return
	}
	detail, _ := json.Marshal(contract.Heartbeat{Region: s.Region, Run: s.Run, Mode: s.Mode, Started: s.Started.UTC().Format(time.RFC3339),
		Seen: s.Tally.Seen, Failing: s.Tally.Failing(), Outcome: s.Tally.Statuses})
	out, err := h.Heartbeat.Client.PutEvents(ctx, &eventbridge.PutEventsInput{Entries: []types.PutEventsRequestEntry{{
		EventBusName: aws.String(h.Heartbeat.Bus), Source: aws.String(contract.HeartbeatSource),
		DetailType: aws.String(contract.HeartbeatDetailType), Detail: aws.String(string(detail)),
	}}})
	if err == nil && out.FailedEntryCount > 0 && len(out.Entries) > 0 {
		err = fmt.Errorf("%s: %s", aws.ToString(out.Entries[0].ErrorCode), aws.ToString(out.Entries[0].ErrorMessage))
	}
	if err != nil {
		log.Warn("heartbeat", "bus", h.Heartbeat.Bus, contract.FieldErr, fmt.Errorf("put heartbeat on %s: %w", h.Heartbeat.Bus, err))
		return
	}
	log.Info("heartbeat", "bus", h.Heartbeat.Bus, "seen", s.Tally.Seen)
}
