/* The program every method spawns in `forkexec bench`: it exits at once, so a spawn's
 * cost is the method's own (built static where the toolchain allows, to keep the
 * dynamic loader's work out of the numbers). */
int main(void) { return 0; }
