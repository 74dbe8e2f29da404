//go:build integration

package handler_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bucketguard/bucketguard/remediations/emulator"
	"github.com/bucketguard/bucketguard/remediations/ledger"
)

// The Security Hub finding states on DynamoDB (the emulator): kept, read,
// listed by Id prefix across the Scan's pages among the table's other
// items, and dropped.
func TestFindingStatesOnTheEmulator(t *testing.T) {
	e := emulator.NewEmulator(t)
	ctx := emulator.Ctx(t)
	if err := emulator.LedgerTable(ctx, e.Direct, "bucketguard-ledger"); err != nil {
		t.Fatal(err)
	}
	l := &ledger.Store{DB: e.Clients.DynamoDB, Table: "bucketguard-ledger"}
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	want := map[string]string{}
	for i := range 40 {
		id := fmt.Sprintf("bucketguard/111122223333/eu-west-1/acme-%03d/public-policy", i)
		want[id] = "public"
		if _, err := l.SetFindingState(ctx, id, "public", at, time.Time{}, true); err != nil {
			t.Fatal(err)
		}
	}
	// Other items of the table, another region's states, and a long value
	// so that the Scan pages (1 MB a page).
	if _, err := l.SetFindingState(ctx, "bucketguard/111122223333/us-east-1/acme-us/public-policy", "approved", at, time.Time{}, true); err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		if _, err := e.Clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bucketguard-ledger"), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("incident/padding-%d", i)}, "journal": &types.AttributeValueMemberS{Value: string(make([]byte, 300*1024))}}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := l.FindingStates(ctx, "bucketguard/111122223333/eu-west-1/")
	if err != nil || !maps.Equal(got, want) {
		t.Fatalf("listed %d states (%v), want %d: %v", len(got), err, len(want), slices.Sorted(maps.Keys(got))[:min(3, len(got))])
	}
	id := "bucketguard/111122223333/eu-west-1/acme-007/public-policy"
	if s, when, sent, err := l.FindingState(ctx, id); err != nil || s != "public" || !when.Equal(at) || !sent {
		t.Fatalf("state %q at %v sent %v, %v", s, when, sent, err)
	}
	// An older state changes nothing; a newer one replaces it.
	// Writes that read another state than the one kept, or are no newer
	// than it, write nothing.
	for _, w := range []struct{ at, prev time.Time }{
		{at.Add(time.Minute), time.Time{}},          // read nothing, but a state is kept
		{at.Add(time.Minute), at.Add(-time.Minute)}, // read another time
		{at, at}, // no newer
		{at.Add(-time.Minute), at.Add(-2 * time.Minute)}, // older
	} {
		if won, err := l.SetFindingState(ctx, id, "approved", w.at, w.prev, true); err != nil || won {
			t.Fatalf("a write as of %v having read %v: won %v, %v", w.at, w.prev, won, err)
		}
	}
	if s, _, _, err := l.FindingState(ctx, id); err != nil || s != "public" {
		t.Fatalf("after older writes: %q, %v", s, err)
	}
	// A state not yet sent, then marked sent as of its own time only.
	later := at.Add(time.Minute)
	if won, err := l.SetFindingState(ctx, id, "approved", later, at, false); err != nil || !won {
		t.Fatalf("a newer write: won %v, %v", won, err)
	}
	if err := l.MarkFindingSent(ctx, id, at); err != nil {
		t.Fatal(err)
	}
	if _, _, sent, _ := l.FindingState(ctx, id); sent {
		t.Fatal("marked sent as of another time")
	}
	if err := l.MarkFindingSent(ctx, id, later); err != nil {
		t.Fatal(err)
	}
	if _, _, sent, _ := l.FindingState(ctx, id); !sent {
		t.Fatal("not marked sent")
	}
	latest := later.Add(time.Minute)
	if won, err := l.SetFindingState(ctx, id, "", latest, later, true); err != nil || !won {
		t.Fatalf("drop: won %v, %v", won, err)
	}
	if s, when, _, err := l.FindingState(ctx, id); err != nil || s != "" || !when.Equal(latest) {
		t.Fatalf("dropped state reads %q at %v, %v", s, when, err)
	}
	// An item whose time is not a number is older than any.
	if _, err := e.Clients.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("bucketguard-ledger"), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "finding/odd"}, "state": &types.AttributeValueMemberS{Value: "approved"}, "at": &types.AttributeValueMemberS{Value: "2026-11-20T09:00:00Z"}}}); err != nil {
		t.Fatal(err)
	}
	if won, err := l.SetFindingState(ctx, "odd", "public", at, time.Time{}, true); err != nil || !won {
		t.Fatalf("over a string time: won %v, %v", won, err)
	}
	if got, err := l.FindingStates(ctx, "bucketguard/111122223333/eu-west-1/"); err != nil || len(got) != len(want)-1 {
		t.Fatalf("after the drop: %d states listed, %v", len(got), err)
	}
}
