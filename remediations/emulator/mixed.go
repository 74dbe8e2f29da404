package emulator

import (
	"context"
	"fmt"
	"sync"

	"github.com/bucketguard/bucketguard/remediations/acl"
	"github.com/bucketguard/bucketguard/remediations/fake"
	"github.com/bucketguard/bucketguard/remediations/posture"
)

// Kind is one state of a bucket in a mixed account.
type Kind int

// The kinds of a mixed account.
const (
	Clean        Kind = iota
	PublicPolicy      // a public-read statement beside a partner's
	BPAOff            // Block Public Access deleted
	PublicACL         // a public-read ACL grant, BPA deleted
	ApprovedSite      // approved public read, as approved
)

// MixKind spreads buckets over the kinds: of every 20, two have a public
// policy, two no Block Public Access, one a public ACL, one is an approved
// website, fourteen are clean.
func MixKind(i int) Kind {
	switch i % 20 {
	case 0, 1:
		return PublicPolicy
	case 2, 3:
		return BPAOff
	case 4:
		return PublicACL
	case 5:
		return ApprovedSite
	}
	return Clean
}

// MixName names the i-th bucket of a mixed account.
func MixName(i int) string { return fmt.Sprintf("acme-%04d", i) }

// Mixed creates n buckets in the mix, eight at a time.
func (s Scene) Mixed(ctx context.Context, n int) error {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		sem      = make(chan struct{}, 8)
	)
	for i := range n {
		name := MixName(i)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := s.Baseline(ctx, name, fmt.Sprintf("team-%d", i%7))
			switch MixKind(i) {
			case PublicPolicy:
				err = first(err, s.Policy(ctx, name, PolicyDoc(PartnerStatement(name), PublicReadStatement(name), TLSStatement(name))))
			case BPAOff:
				err = first(err, s.BPA(ctx, name, nil))
			case PublicACL:
				err = first(err, s.BPA(ctx, name, nil), s.PublicACL(ctx, name))
			case ApprovedSite:
				// A website endpoint serves HTTP only: no TLS-only statement.
				err = first(err, s.Tags(ctx, name, map[string]string{"bucketguard:approved-public": "true"}),
					s.BPA(ctx, name, &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}),
					s.Website(ctx, name, "index.html"),
					s.Policy(ctx, name, PolicyDoc(PublicReadStatement(name))))
			}
			if err != nil {
				mu.Lock()
				firstErr = first(firstErr, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// MixedFake is n buckets in the same mix as Mixed, on the in-memory fakes,
// with the account's Block Public Access all on.
func MixedFake(n int) *fake.Fake {
	f := fake.New()
	on := posture.AllOn
	for i := range n {
		name := MixName(i)
		b := fake.Bucket{BPA: &on, Encryption: &posture.Encryption{Algorithm: "AES256"}, Policy: PolicyDoc(TLSStatement(name))}
		switch MixKind(i) {
		case PublicPolicy:
			b.Policy = PolicyDoc(PartnerStatement(name), PublicReadStatement(name), TLSStatement(name))
		case BPAOff:
			b.BPA = nil
		case PublicACL:
			b.BPA = nil
			b.ACL = fake.PrivateACL()
			b.ACL.Grants = append(b.ACL.Grants, acl.Grant{Grantee: acl.Grantee{Type: acl.Group, URI: acl.AllUsers}, Permission: "READ"})
		case ApprovedSite:
			b.Tags = map[string]string{"bucketguard:approved-public": "true"}
			b.BPA = &posture.BPA{BlockPublicAcls: true, IgnorePublicAcls: true}
			b.Website = &posture.Website{IndexDocument: "index.html"}
			b.Policy = PolicyDoc(PublicReadStatement(name))
		}
		f.Put(name, b)
	}
	f.SetAccountBPA(&on)
	return f
}
