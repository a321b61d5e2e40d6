/* Declarations shared by the runtime's files (not public). */
#ifndef MEC_RUNTIME_INTERNAL_H
#define MEC_RUNTIME_INTERNAL_H

#include "mec/runtime.h"

/* Records the load time a loader measured (parse + create). */
void mec_sess_set_load_ms(mec_sess *s, double load_ms);

#endif
