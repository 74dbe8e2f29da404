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
		if err := l.SetFindingState(ctx, id, "public", at); err != nil {
			t.Fatal(err)
		}
	}
	// Other items of the table, another region's states, and a long value
	// so that the Scan pages (1 MB a page).
	if err := l.SetFindingState(ctx, "bucketguard/111122223333/us-east-1/acme-us/public-policy", "approved", at); err != nil {
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
	if s, when, err := l.FindingState(ctx, id); err != nil || s != "public" || !when.Equal(at) {
		t.Fatalf("state %q at %v, %v", s, when, err)
	}
	// An older state changes nothing; a newer one replaces it.
	if err := l.SetFindingState(ctx, id, "approved", at.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if s, _, err := l.FindingState(ctx, id); err != nil || s != "public" {
		t.Fatalf("after an older write: %q, %v", s, err)
	}
	later := at.Add(time.Minute)
	if err := l.SetFindingState(ctx, id, "", later); err != nil {
		t.Fatal(err)
	}
	if s, when, err := l.FindingState(ctx, id); err != nil || s != "" || !when.Equal(later) {
		t.Fatalf("dropped state reads %q at %v, %v", s, when, err)
	}
	if got, err := l.FindingStates(ctx, "bucketguard/111122223333/eu-west-1/"); err != nil || len(got) != len(want)-1 {
		t.Fatalf("after the drop: %d states listed, %v", len(got), err)
	}
}
