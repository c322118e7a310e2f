/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A CUnit main for the test programs: run the suites given, print CUnit's
 * summary, exit 1 on any failed assertion so `meson test` sees it.
 */
#ifndef ION_TEST_CUNIT_MAIN_H
#define ION_TEST_CUNIT_MAIN_H

#include <stdio.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

struct test_case {
	const char *name;
	CU_TestFunc fn;
};

/* Register one suite of @p n tests; 0 or -1. */
static inline int
test_add_suite(const char *name, const struct test_case *t, unsigned int n)
{
	CU_pSuite s = CU_add_suite(name, NULL, NULL);
	unsigned int i;

	if (s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (CU_add_test(s, t[i].name, t[i].fn) == NULL)
			return -1;
	return 0;
}

/* Run everything registered; the exit status of the test program. */
static inline int
test_run_all(void)
{
	unsigned int failed;

	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed == 0 ? 0 : 1;
}

#define TEST(fn)                                                               \
	{                                                                      \
#fn, fn                                                        \
	}
#define N_TESTS(a) (sizeof(a) / sizeof((a)[0]))

#endif /* ION_TEST_CUNIT_MAIN_H */
