package service

import (
	"errors"
	"fmt"

	"github.com/strongroom-dev/strongroom/internal/blob"
	"github.com/strongroom-dev/strongroom/internal/errs"
)

// tierErr marks a data tier that cannot serve now (a remote store
// unreachable or failing) as errs.DataUnavailable: the client gets a 503
// and retries, rather than a 500.
func tierErr(err error) error {
	if errors.Is(err, blob.ErrUnavailable) && errs.As(err) == nil {
		return fmt.Errorf("%w: %w", errs.DataUnavailable, err)
	}
	return err
}
