/* noop: exits 0 at once. The benchmark spawns it to measure process creation alone. */
int main(void) { return 0; }
