package fake

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// SecurityHub is a counting fake of the two Security Hub calls bucketguard
// makes: it keeps each finding's latest import by Id, as Security Hub does,
// and records how many findings each import carried.
type SecurityHub struct {
	mu       sync.Mutex
	imports  []int
	updates  int
	findings map[string]types.AwsSecurityFinding
}

// BatchImportFindings keeps the findings; more than 100 is refused, as
// Security Hub refuses it.
func (h *SecurityHub) BatchImportFindings(_ context.Context, in *securityhub.BatchImportFindingsInput, _ ...func(*securityhub.Options)) (*securityhub.BatchImportFindingsOutput, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.imports = append(h.imports, len(in.Findings))
	if len(in.Findings) > 100 {
		return nil, APIError("InvalidInputException", "more than 100 findings")
	}
	if h.findings == nil {
		h.findings = map[string]types.AwsSecurityFinding{}
	}
	for _, f := range in.Findings {
		h.findings[aws.ToString(f.Id)] = f
	}
	return &securityhub.BatchImportFindingsOutput{FailedCount: aws.Int32(0), SuccessCount: aws.Int32(int32(len(in.Findings)))}, nil
}

// BatchUpdateFindings counts the call.
func (h *SecurityHub) BatchUpdateFindings(context.Context, *securityhub.BatchUpdateFindingsInput, ...func(*securityhub.Options)) (*securityhub.BatchUpdateFindingsOutput, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.updates++
	return &securityhub.BatchUpdateFindingsOutput{}, nil
}

// Imports returns how many findings each import carried, in order.
func (h *SecurityHub) Imports() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]int(nil), h.imports...)
}

// Findings returns the findings kept, by Id.
func (h *SecurityHub) Findings() map[string]types.AwsSecurityFinding {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]types.AwsSecurityFinding, len(h.findings))
	for k, v := range h.findings {
		out[k] = v
	}
	return out
}
