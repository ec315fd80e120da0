/** Entry point of the `ray-connect` command. Returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write('Usage: ray-connect <command> [options]\n');
    return 0;
  }
  process.stderr.write(`ray-connect: unknown command ${argv[0]}\n`);
  return 2;
}
