/**
 * Piscina task of a job thread (see job-threads.ts): runs one job. A CPU-bound step blocks this
 * thread only, so the worker's main thread keeps renewing the job's lock in Redis.
 */
import { runJob, type JobData, type JobResult } from './job-run.js';

export interface JobRequest {
  data: JobData;
  children?: Record<string, JobResult>;
}

export default function runJobTask(req: JobRequest): Promise<JobResult> {
  return runJob(req.data, req.children);
}
