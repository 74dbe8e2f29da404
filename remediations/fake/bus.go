package fake

import (
	"context"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// Bus is an EventBridge event bus: it keeps the entries put on it, in
// order. Refuse, when set, is the error code every entry is refused with
// (FailedEntryCount, as EventBridge answers a refused entry); Err, when
// set, fails the whole call.
type Bus struct {
	mu      sync.Mutex
	entries []types.PutEventsRequestEntry
	calls   int
	Refuse  string
	Err     error
}

// PutEvents keeps the entries, or refuses them.
func (b *Bus) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.Err != nil {
		return nil, b.Err
	}
	out := &eventbridge.PutEventsOutput{}
	for _, e := range in.Entries {
		if b.Refuse != "" {
			out.FailedEntryCount++
			out.Entries = append(out.Entries, types.PutEventsResultEntry{ErrorCode: aws.String(b.Refuse), ErrorMessage: aws.String("refused")})
			continue
		}
		b.entries = append(b.entries, e)
		out.Entries = append(out.Entries, types.PutEventsResultEntry{EventId: aws.String("event-" + strconv.Itoa(len(b.entries)))})
	}
	return out, nil
}

// Entries are the entries kept so far.
func (b *Bus) Entries() []types.PutEventsRequestEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]types.PutEventsRequestEntry(nil), b.entries...)
}

// Calls counts the PutEvents calls, refused ones too.
func (b *Bus) Calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.calls
}
