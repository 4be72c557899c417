package listen

import (
	"context"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Jobs inspects a queue without working its jobs (`stagesync jobs`).
type Jobs struct{ q *queue }

// OpenJobs opens the queue at url (see QueueConfig.URL).
func OpenJobs(ctx context.Context, url string) (*Jobs, error) {
	q, err := openQueue(ctx, QueueConfig{URL: url})
	if err != nil {
		return nil, err
	}
	return &Jobs{q: q}, nil
}

// Close releases the queue.
func (j *Jobs) Close() { j.q.close() }

// Failed lists the jobs that failed every attempt (discarded), then those
// waiting for their next attempt (retryable), each with its errors.
func (j *Jobs) Failed(ctx context.Context) ([]*rivertype.JobRow, error) {
	var out []*rivertype.JobRow
	for _, st := range []rivertype.JobState{rivertype.JobStateDiscarded, rivertype.JobStateRetryable} {
		params := river.NewJobListParams().States(st).First(1000)
		for {
			res, err := j.q.JobList(ctx, params)
			if err != nil {
				return nil, err
			}
			out = append(out, res.Jobs...)
			if len(res.Jobs) < 1000 {
				break
			}
			params = params.After(res.LastCursor)
		}
	}
	return out, nil
}

// Retry makes a job available again at once (a discarded one gets one
// more attempt).
func (j *Jobs) Retry(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	return j.q.JobRetry(ctx, id)
}

// Pending counts the jobs not finished.
func (j *Jobs) Pending(ctx context.Context) (int, error) {
	return countJobs(ctx, j.q, pendingStates...)
}
