/* sml.c -- syncml service start/stop. */
#include "sml.h"

#include <stdlib.h>

#include "mdm_log.h"

int sml_start(sml_config_t *cfg, sml_t **out)
{
	mdm_err_t err = {0};
	sml_t *self = calloc(1, sizeof *self);
	check_mem(self);
	self->cfg = cfg;
	self->store = mdm_store_new(cfg->redis_url, &err);
	check(self->store, "MDM_REDIS_URL: %s", err.text);
	*out = self;
	return 0;
error:
	sml_stop(&self);
	return -1;
}

void sml_stop(sml_t **self_p)
{
	if (self_p == NULL || *self_p == NULL)
		return;
	mdm_store_destroy(&(*self_p)->store);
	free(*self_p);
	*self_p = NULL;
}
