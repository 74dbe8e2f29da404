package startup

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// InvokeAPIClient is the call that starts the sweep function.
type InvokeAPIClient interface {
	Invoke(context.Context, *lambda.InvokeInput, ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

var _ InvokeAPIClient = (*lambda.Client)(nil)

// SweepFunction starts a sweep run: the sweep function invoked
// asynchronously (InvocationType Event), as its schedule would, with the
// payload. It is the remediate function's one Lambda call
// (handler.SweepInvoker).
type SweepFunction struct {
	Client InvokeAPIClient
	// Name is the function's ARN or name (BUCKETGUARD_SWEEP_FUNCTION).
	Name string
}

// StartSweep invokes the sweep function; Lambda queues the event.
func (f SweepFunction) StartSweep(ctx context.Context, payload []byte) error {
	if _, err := f.Client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(f.Name), InvocationType: types.InvocationTypeEvent, Payload: payload}); err != nil {
		return fmt.Errorf("invoke %s: %w", f.Name, err)
	}
	return nil
}
