int bench_add(int a, int b);
