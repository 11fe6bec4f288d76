// Preloaded into a child process (node --import): prints the peak resident set size on exit.
process.on('exit', () => {
  process.stderr.write(`\nDARKROOM_MAXRSS_KB ${process.resourceUsage().maxRSS}\n`);
});
