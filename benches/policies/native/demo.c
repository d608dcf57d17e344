#include "demo.h"
int bench_add(int a, int b) { return a + b; }
