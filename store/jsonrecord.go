package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// readJSON reads the JSON record at key into v; found is false (v
// untouched) when there is none. what names the record in a decode error.
// Redis errors are returned as they are, for the caller to wrap.
func readJSON[T any](ctx context.Context, c redis.Cmdable, key, what string, v *T) (found bool, err error) {
	raw, err := c.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var rec T
	if err := json.Unmarshal(raw, &rec); err != nil {
		return false, fmt.Errorf("decode %s: %w", what, err)
	}
	*v = rec
	return true, nil
}
